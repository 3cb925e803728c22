import t from 'tap'
import sharp, { type Sharp } from 'sharp'
import { jpegHeader } from '../src/inference/image-header.js'
import * as images from './helpers/images.js'

/** sharp's own reading of what preprocessing needs from a header. */
async function sharpHeader (bytes: Buffer): Promise<{ width: number, height: number, orientation: number }> {
  const meta = await sharp(bytes).metadata()
  return { width: meta.width, height: meta.height, orientation: meta.orientation ?? 1 }
}

const photo = (): Sharp => sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 10, g: 200, b: 90 } } })

t.test('size and EXIF orientation as sharp reads them, for the JPEGs cameras and encoders write', async (t) => {
  const cases: Array<[string, Buffer]> = [
    ['baseline', await photo().jpeg().toBuffer()],
    ['progressive', await photo().jpeg({ progressive: true }).toBuffer()],
    ['4:4:4, no subsampling', await photo().jpeg({ chromaSubsampling: '4:4:4' }).toBuffer()],
    ['mozjpeg (optimised scans)', await photo().jpeg({ mozjpeg: true }).toBuffer()],
    ['with an ICC profile', await photo().withIccProfile('p3').jpeg().toBuffer()],
    ['with XMP before the EXIF', await photo().withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>').withMetadata({ orientation: 3 }).jpeg().toBuffer()],
    ['the EXIF-rotated fixture', images.exifRotatedJpeg()],
    ['the benchmark photo', images.benchmarkPhoto()],
    ['greyscale', await images.greyscaleJpeg()],
    ['CMYK', images.cmykJpeg()],
  ]
  for (let orientation = 1; orientation <= 8; orientation++) {
    cases.push([`EXIF orientation ${orientation}`, await photo().withMetadata({ orientation }).jpeg().toBuffer()])
  }
  for (const [name, bytes] of cases) {
    t.same(jpegHeader(bytes), await sharpHeader(bytes), name)
  }
})

t.test('what it does not read as a plain JPEG header is left to sharp', async (t) => {
  const jpeg = await photo().withMetadata({ orientation: 6 }).jpeg().toBuffer()
  t.equal(jpegHeader(await photo().png().toBuffer()), undefined, 'a PNG')
  t.equal(jpegHeader(await photo().webp().toBuffer()), undefined, 'a WebP')
  t.equal(jpegHeader(images.textFile()), undefined, 'text')
  t.equal(jpegHeader(Buffer.alloc(0)), undefined, 'nothing')
  t.equal(jpegHeader(jpeg.subarray(0, 40)), undefined, 'a header cut before its frame')
  // The EXIF's orientation entry says it holds two values: not what a camera writes.
  const at = jpeg.indexOf(Buffer.from([0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00]))
  const bigEndian = at < 0
  const entry = bigEndian ? jpeg.indexOf(Buffer.from([0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01])) : at
  t.ok(entry > 0, 'the orientation entry is found')
  const odd = Buffer.from(jpeg)
  if (bigEndian) odd.writeUInt32BE(2, entry + 4)
  else odd.writeUInt32LE(2, entry + 4)
  t.equal(jpegHeader(odd), undefined, 'EXIF it does not follow')
  // Data before any frame header.
  t.equal(jpegHeader(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 0, 0, 0, 0, 0, 0])), undefined, 'scan data first')
})
