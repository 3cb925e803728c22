/**
 * The known behaviour of the demo models, so tests and demos can say which version answered.
 *
 * Each generated weights version adds a "colour head" to the ResNet's logits: the global average of the normalised
 * input, through a Gemm with a large gain, pushes one class per dominant colour far above every other logit. The
 * colour-to-class map is permuted between weights versions, and the two labels files name the classes differently,
 * so a red image answers `tomato` with weights 1 + labels 1, `cucumber` with weights 2 + labels 1, and
 * `Solanum lycopersicum` with weights 1 + labels 2.
 */
export type Colour = 'red' | 'green' | 'blue'
export const COLOURS: readonly Colour[] = ['red', 'green', 'blue']

/** Version numbers as the demo uploads them: 1 is the first S3 version of a key, 2 the second. */
export type DemoVersion = 1 | 2
export const DEMO_VERSIONS: readonly DemoVersion[] = [1, 2]

export const CLASS_COUNT = 1000

/** The class index each weights version gives an image whose dominant colour is the key. */
export const COLOUR_CLASS: Readonly<Record<DemoVersion, Readonly<Record<Colour, number>>>> = {
  1: { red: 100, green: 200, blue: 300 },
  2: { red: 200, green: 300, blue: 100 },
}

/** The names of the three colour classes in each labels version; every other class is named by `labelName`. */
export const COLOUR_CLASS_NAMES: Readonly<Record<DemoVersion, Readonly<Record<number, string>>>> = {
  1: { 100: 'tomato', 200: 'cucumber', 300: 'blueberry' },
  2: { 100: 'Solanum lycopersicum', 200: 'Cucumis sativus', 300: 'Vaccinium corymbosum' },
}

/** The label of class `index` in labels version `version`. */
export function labelName (version: DemoVersion, index: number): string {
  const named = COLOUR_CLASS_NAMES[version][index]
  if (named !== undefined) return named
  return version === 1 ? `class ${index}` : `category ${String(index).padStart(4, '0')}`
}

/** The top label for an image of `colour` with weights version `weights` and labels version `labels`. */
export function expectedTopLabel (weights: DemoVersion, labels: DemoVersion, colour: Colour): string {
  return labelName(labels, COLOUR_CLASS[weights][colour])
}

/**
 * The labels file of a version. Version 1 uses ImageNet's synset format (`n01440764 tench`), version 2 one label
 * a line, so both formats the loader accepts are exercised. `count` lets tests make a file that does not match.
 */
export function labelsText (version: DemoVersion, count = CLASS_COUNT): string {
  const lines: string[] = []
  for (let i = 0; i < count; i++) {
    const name = labelName(version, i)
    lines.push(version === 1 ? `n${String(90_000_000 + i).padStart(8, '0')} ${name}` : name)
  }
  return lines.join('\n') + '\n'
}
