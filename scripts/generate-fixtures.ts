/**
 * `npx tsx scripts/generate-fixtures.ts`: regenerates the image fixtures in test/fixtures/. Files are kept where
 * a file is better than code: the benchmark photo (so figures stay comparable across sharp versions), a CMYK
 * JPEG, a JPEG with an EXIF orientation, a truncated JPEG, and an image over the pixel limit (slow to encode). Every other test image is built in memory by
 * test/helpers/images.ts with the same generator.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import sharp from 'sharp'
import { seededRandom } from './model-onnx.js'

export const FIXTURES_DIR = resolve(fileURLToPath(new URL('../test/fixtures/', import.meta.url)))

/** Dominant colour of a photo, or none (a natural mix). */
export type Tint = 'red' | 'green' | 'blue' | 'none'

const TINTS: Record<Tint, [number, number, number]> = {
  red: [1, 0.2, 0.15],
  green: [0.2, 1, 0.2],
  blue: [0.15, 0.25, 1],
  none: [0.9, 0.75, 0.6],
}

/**
 * Photo-like RGB pixels: smooth light falloff, a few soft shapes, texture at several scales and sensor grain, so a
 * JPEG of it has the size and decoding cost of a real photo (a flat colour would compress to nothing). Tinted
 * images keep their dominant channel everywhere, which is what the demo models' colour head keys on.
 */
export function photoLikePixels (width: number, height: number, seed: number, tint: Tint = 'none'): Buffer {
  const random = seededRandom(seed)
  const waves = Array.from({ length: 10 }, (_, i) => ({
    fx: (random() - 0.5) * (i < 5 ? 0.06 : 0.5),
    fy: (random() - 0.5) * (i < 5 ? 0.06 : 0.5),
    phase: random() * Math.PI * 2,
    amp: i < 5 ? random() * 0.12 : random() * 0.04,
  }))
  // Hard-edged objects (discs and boxes) give the edges that make real photos expensive to encode and decode.
  const objects = Array.from({ length: 14 }, () => ({
    disc: random() < 0.5,
    x: random() * width,
    y: random() * height,
    w: (0.05 + random() * 0.2) * width,
    h: (0.05 + random() * 0.2) * height,
    light: random() * 0.6 - 0.3,
    colour: [0.5 + random(), 0.5 + random(), 0.5 + random()],
  }))
  const base = TINTS[tint]
  const pixels = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x / width - 0.5
      const dy = y / height - 0.5
      let light = 0.7 - 0.6 * (dx * dx + dy * dy)
      for (const w of waves) light += w.amp * Math.sin(x * w.fx + y * w.fy + w.phase)
      let colour = [1, 1, 1]
      for (const o of objects) {
        const inside = o.disc
          ? ((x - o.x) / o.w) ** 2 + ((y - o.y) / o.h) ** 2 < 1
          : Math.abs(x - o.x) < o.w && Math.abs(y - o.y) < o.h
        if (inside) {
          light += o.light
          if (tint === 'none') colour = o.colour as [number, number, number]
        }
      }
      const i = (y * width + x) * 3
      for (let c = 0; c < 3; c++) {
        pixels[i + c] = clamp((light + (random() - 0.5) * 0.16) * base[c]! * colour[c]! * 255)
      }
    }
  }
  return pixels
}

function clamp (v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v)
}

/** A photo-like JPEG (quality 90, as cameras and phones write them). */
export async function photoLikeJpeg (width: number, height: number, seed: number, tint: Tint = 'none'): Promise<Buffer> {
  return await sharp(photoLikePixels(width, height, seed, tint), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 }).toBuffer()
}

/** The benchmark image: a 500x375 JPEG (ImageNet's typical size) with photo-like content. */
export const BENCHMARK_IMAGE = { file: 'photo-500x375.jpg', width: 500, height: 375, seed: 500 }

/** What each fixture file is and how it is made. */
export const FIXTURES: Record<string, () => Promise<Buffer>> = {
  [BENCHMARK_IMAGE.file]: async () =>
    await photoLikeJpeg(BENCHMARK_IMAGE.width, BENCHMARK_IMAGE.height, BENCHMARK_IMAGE.seed),
  // A red photo as CMYK, as print workflows save it; the preprocessor must convert it to sRGB.
  'red-cmyk.jpg': async () =>
    await sharp(photoLikePixels(320, 240, 11, 'red'), { raw: { width: 320, height: 240, channels: 3 } })
      .toColourspace('cmyk').jpeg({ quality: 90 }).toBuffer(),
  // A green photo stored 240x320 with EXIF orientation 6 (rotate 90 degrees clockwise to view), as phones do.
  'green-exif-orientation-6.jpg': async () =>
    await sharp(photoLikePixels(240, 320, 12, 'green'), { raw: { width: 240, height: 320, channels: 3 } })
      .jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer(),
  // 7200x7200 = 51.8 MP, just over MAX_INPUT_PIXELS (50.3 MP); flat grey, so the file stays small (60 kB).
  'grey-7200x7200.png': async () =>
    await sharp({ create: { width: 7200, height: 7200, channels: 3, background: '#808080' }, limitInputPixels: false })
      .toColourspace('b-w').png({ compressionLevel: 9 }).toBuffer(),
  // A blue photo cut off after 60% of its bytes, as an interrupted upload leaves it.
  'blue-truncated.jpg': async () => {
    const whole = await photoLikeJpeg(320, 240, 13, 'blue')
    return whole.subarray(0, Math.floor(whole.byteLength * 0.6))
  },
}

async function main (): Promise<void> {
  await mkdir(FIXTURES_DIR, { recursive: true })
  for (const [name, make] of Object.entries(FIXTURES)) {
    const bytes = await make()
    await writeFile(join(FIXTURES_DIR, name), bytes)
    console.log(`${name}: ${bytes.byteLength} bytes`)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
