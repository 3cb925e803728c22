import { LabelsMismatchError } from './errors.js'

/** ImageNet's synset lines: `n01440764 tench, Tinca tinca` (WordNet id, a space, the names). */
const SYNSET_LINE = /^n\d{8}\s+(.+)$/

/**
 * Parses a labels file: one label a line, or ImageNet synset lines whose WordNet id is dropped. Blank lines at
 * the end are ignored; a blank line in the middle is a class without a name and is kept, so indices stay aligned.
 * When `classCount` is given, the number of labels must match it.
 */
export function parseLabels (text: string, classCount?: number, source = 'the labels file'): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop()
  if (lines.length === 0) throw new LabelsMismatchError(`${source} has no labels`)
  const synsets = lines.every((line) => SYNSET_LINE.test(line.trim()))
  const labels = lines.map((line) => synsets ? SYNSET_LINE.exec(line.trim())![1]! : line.trim())
  if (classCount !== undefined && labels.length !== classCount) {
    throw new LabelsMismatchError(`${source} has ${labels.length} labels but the model has ${classCount} classes`)
  }
  return labels
}
