/**
 * A JPEG's size and EXIF orientation read from its header in JavaScript, so that preprocessing (preprocess.ts) needs
 * one sharp pipeline per image instead of two: sharp's `metadata()` is a trip to libvips' thread pool and back, about
 * 0.35 ms of a warm request here (more right after an inference run, when the CPU's caches hold the model's
 * weights). Anything this parser does not recognise as a plain JPEG header (another format, a truncated or odd
 * file) returns undefined, and the caller asks sharp.
 */
export interface ImageHeader {
  width: number
  height: number
  /** EXIF orientation 1-8 (1 when there is none) */
  orientation: number
}

/** Start-of-frame markers (baseline, extended, progressive, lossless; Huffman and arithmetic): C0-CF but C4, C8, CC. */
function isStartOfFrame (marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
}

export function jpegHeader (bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let orientation: number | undefined
  let offset = 2
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return undefined
    const marker = bytes[offset + 1]!
    // fill bytes before a marker
    if (marker === 0xff) { offset++; continue }
    // the image data starts before any frame header: not a JPEG this parser knows
    if (marker === 0xda || marker === 0xd9) return undefined
    const length = view.getUint16(offset + 2)
    if (length < 2 || offset + 2 + length > bytes.length) return undefined
    const segment = offset + 4
    if (marker === 0xe1 && orientation === undefined) {
      const found = exifOrientation(bytes, view, segment, length - 2)
      // EXIF this parser cannot read: sharp decides
      if (found === 'unreadable') return undefined
      if (found !== 'none') orientation = found
    }
    if (isStartOfFrame(marker)) {
      if (length < 8) return undefined
      const height = view.getUint16(segment + 1)
      const width = view.getUint16(segment + 3)
      // a height of 0 is defined later by a DNL marker: rare, left to sharp
      if (width === 0 || height === 0) return undefined
      return { width, height, orientation: orientation ?? 1 }
    }
    offset += 2 + length
  }
  return undefined
}

/**
 * The orientation tag (0x0112) of IFD0 in an APP1 segment: its value, 'none' when the segment is not EXIF (XMP) or
 * has no such tag, 'unreadable' when it is EXIF this parser does not follow to the end.
 */
function exifOrientation (bytes: Uint8Array, view: DataView, start: number, length: number): number | 'none' | 'unreadable' {
  // "Exif\0\0", then a TIFF header
  const exif = length >= 6 && bytes[start] === 0x45 && bytes[start + 1] === 0x78 && bytes[start + 2] === 0x69 && bytes[start + 3] === 0x66 &&
    bytes[start + 4] === 0 && bytes[start + 5] === 0
  if (!exif) return 'none'
  const tiff = start + 6
  const end = start + length
  if (tiff + 8 > end) return 'unreadable'
  const order = view.getUint16(tiff)
  if (order !== 0x4949 && order !== 0x4d4d) return 'unreadable'
  const little = order === 0x4949
  const ifd = tiff + view.getUint32(tiff + 4, little)
  if (ifd + 2 > end) return 'unreadable'
  const entries = view.getUint16(ifd, little)
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12
    if (entry + 12 > end) return 'unreadable'
    if (view.getUint16(entry, little) !== 0x0112) continue
    // type SHORT, count 1: the value sits in the first two bytes of the value field
    if (view.getUint16(entry + 2, little) !== 3 || view.getUint32(entry + 4, little) !== 1) return 'unreadable'
    const value = view.getUint16(entry + 8, little)
    return value >= 1 && value <= 8 ? value : 'unreadable'
  }
  return 'none'
}
