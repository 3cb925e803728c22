import type { default as Sharp, Metadata, SharpOptions } from 'sharp'
import { ImageTooLargeError, ImageTooSmallError, InvalidImageError } from './errors.js'
import { jpegHeader } from './image-header.js'

/**
 * Largest image accepted, in pixels: 50 MP, the largest common camera sensor (Canon EOS 5DS, 8688x5792 = 50.3 MP).
 * libvips decodes a JPEG this size in about 150 MB, which fits beside two cached ResNet-50s in a 1024 MB function;
 * sharp's own default (268 MP) would not. Checked from the header before anything is decoded.
 */
export const MAX_INPUT_PIXELS = 50_331_648

/**
 * Largest image accepted, in bytes: 32 MiB. A 50 MP JPEG at quality 95 is 20-30 MB; a synchronous Lambda invoke
 * carries at most 6 MB anyway, so this bounds what an S3 record can make the function read into memory.
 */
export const MAX_IMAGE_BYTES = 32 * 1024 * 1024

/**
 * Smallest side accepted: 32 px, CIFAR's image size, the smallest images classifiers are commonly trained on.
 * Below it, scaling up to 224 px invents nearly every pixel and any answer would be noise.
 */
export const MIN_INPUT_SIDE = 32

/** How an image becomes the model's input tensor. */
export interface PreprocessSpec {
  /** Side of the square the model sees (224 for ResNet). */
  size: number
  /** Shorter side before the centre crop (256 for ResNet: the crop keeps the central 87.5%). */
  resize: number
  /** Per-channel mean and standard deviation of pixel/255, in RGB order (ImageNet's by default). */
  mean: readonly [number, number, number]
  std: readonly [number, number, number]
}

/** The torchvision / ONNX model zoo recipe for ImageNet ResNets. */
export const IMAGENET_PREPROCESS: PreprocessSpec = {
  size: 224,
  resize: 256,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
}

let loading: Promise<typeof Sharp> | undefined

/**
 * sharp, imported on first use rather than with this module: loading libvips takes 50-200 ms here, and a function's
 * init phase does it while the model downloads (lambda/index.ts) instead of before the download can start.
 */
export async function loadSharp (): Promise<typeof Sharp> {
  loading ??= import('sharp').then(({ default: sharp }) => {
    // Unique inputs make libvips' operation cache useless; it only holds memory between invocations.
    sharp.cache(false)
    return sharp
  })
  return await loading
}

let warmingUp: Promise<void> | undefined

/**
 * Loads sharp and runs one small JPEG through the whole preprocessing, once per process; never rejects. The first
 * pipeline of a process starts libvips' threads and its JPEG decoder: about 10-13 ms more than a warm one here,
 * which the function's init (lambda/main.ts) pays instead of its first request.
 */
export async function warmUpPreprocessing (): Promise<void> {
  warmingUp ??= loadSharp()
    .then(async (sharp) => await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 120, b: 40 } } }).jpeg().toBuffer())
    .then(async (jpeg) => { await preprocessImage(jpeg, { ...IMAGENET_PREPROCESS, size: 32, resize: 36 }) })
    .catch(() => {})
  await warmingUp
}

/**
 * Decodes an image and returns the model's input as NCHW float32 (1 x 3 x size x size): EXIF orientation applied,
 * shorter side scaled to `resize` and the centre `size` square kept, alpha dropped, greyscale and CMYK converted to
 * sRGB, then (pixel / 255 - mean) / std per channel.
 */
export async function preprocessImage (bytes: Uint8Array, spec: PreprocessSpec = IMAGENET_PREPROCESS): Promise<Float32Array> {
  if (bytes.byteLength === 0) throw new InvalidImageError('the image is empty (0 bytes)')
  if (bytes.byteLength > MAX_IMAGE_BYTES) {
    throw new ImageTooLargeError(`the image is ${bytes.byteLength} bytes; the limit is ${MAX_IMAGE_BYTES}`)
  }
  const sharp = await loadSharp()
  const options: SharpOptions = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'warning' }
  // A JPEG's header is read here (image-header.ts); any other image's by sharp.
  let meta: Pick<Metadata, 'width' | 'height' | 'orientation'> | undefined = jpegHeader(bytes)
  if (meta === undefined) {
    try {
      meta = await sharp(bytes, options).metadata()
    } catch (error) {
      throw imageError(error)
    }
  }
  // Orientations 5-8 swap width and height.
  const swap = (meta.orientation ?? 1) >= 5
  const width = swap ? meta.height : meta.width
  const height = swap ? meta.width : meta.height
  if (width * height > MAX_INPUT_PIXELS) {
    throw new ImageTooLargeError(`the image is ${width}x${height} = ${width * height} pixels; the limit is ${MAX_INPUT_PIXELS}`)
  }
  if (Math.min(width, height) < MIN_INPUT_SIDE) {
    throw new ImageTooSmallError(`the image is ${width}x${height} pixels; each side must be at least ${MIN_INPUT_SIDE}`)
  }

  // Scaling the shorter side to `resize` and cropping `size` from the centre is the same as cropping the centre
  // square of side shorter * size / resize first and scaling it to `size`: one resample, over fewer pixels.
  const side = Math.max(1, Math.round(Math.min(width, height) * spec.size / spec.resize))
  const region = {
    left: Math.floor((width - side) / 2),
    top: Math.floor((height - side) / 2),
    width: side,
    height: side,
  }
  let pixels: Buffer
  try {
    const result = await sharp(bytes, { ...options, autoOrient: true })
      .extract(region)
      // Bilinear (with libvips' antialiasing when shrinking), as torchvision's Resize trains and evaluates them.
      .resize(spec.size, spec.size, { fit: 'fill', kernel: 'linear' })
      // PIL's convert('RGB'), which fed these models in training, drops alpha rather than compositing it.
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
    if (result.info.channels !== 3) throw new Error(`decoded to ${result.info.channels} channels instead of 3`)
    pixels = result.data
  } catch (error) {
    throw imageError(error)
  }
  return toNchw(pixels, spec)
}

/** HWC uint8 RGB -> NCHW float32 normalised, in one pass through a table per channel (pixel value -> input value). */
function toNchw (pixels: Buffer, spec: PreprocessSpec): Float32Array {
  const plane = spec.size * spec.size
  const out = new Float32Array(3 * plane)
  const [t0, t1, t2] = normalisationTables(spec)
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[i] = t0[pixels[p]!]!
    out[plane + i] = t1[pixels[p + 1]!]!
    out[2 * plane + i] = t2[pixels[p + 2]!]!
  }
  return out
}

type Tables = [Float32Array, Float32Array, Float32Array]
// The last spec's tables: a function serves one model's spec, which its handler builds anew for every request.
let lastTables: { mean: readonly number[], std: readonly number[], tables: Tables } | undefined

/** (value / 255 - mean) / std for each of the 256 values of each channel, computed in float64 as before. */
function normalisationTables (spec: PreprocessSpec): Tables {
  const same = (a: readonly number[], b: readonly number[]): boolean => a[0] === b[0] && a[1] === b[1] && a[2] === b[2]
  if (lastTables === undefined || !same(lastTables.mean, spec.mean) || !same(lastTables.std, spec.std)) {
    const table = (c: 0 | 1 | 2): Float32Array => Float32Array.from({ length: 256 }, (_, v) => v * (1 / (255 * spec.std[c])) + -spec.mean[c] / spec.std[c])
    lastTables = { mean: [...spec.mean], std: [...spec.std], tables: [table(0), table(1), table(2)] }
  }
  return lastTables.tables
}

function imageError (error: unknown): Error {
  if (error instanceof InvalidImageError || error instanceof ImageTooLargeError || error instanceof ImageTooSmallError) return error
  const message = error instanceof Error ? error.message : String(error)
  if (/pixel limit/i.test(message)) return new ImageTooLargeError(`the image is over ${MAX_INPUT_PIXELS} pixels`, { cause: error })
  if (/unsupported image format/i.test(message)) {
    return new InvalidImageError('the bytes are not an image in a format this function reads (JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG)', { cause: error })
  }
  return new InvalidImageError(`the image could not be decoded: ${message.split('\n')[0]}`, { cause: error })
}
