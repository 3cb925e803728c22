import t from 'tap'
import sharp from 'sharp'
import {
  IMAGENET_PREPROCESS, MAX_IMAGE_BYTES, MAX_INPUT_PIXELS, MIN_INPUT_SIDE, preprocessImage,
} from '../src/inference/preprocess.js'
import { ImageTooLargeError, ImageTooSmallError, InvalidImageError } from '../src/inference/errors.js'
import * as images from './helpers/images.js'

const PLANE = 224 * 224

/** Mean of each channel of an NCHW tensor, back in pixel units (0-255). */
function channelMeans (tensor: Float32Array): number[] {
  return [0, 1, 2].map((c) => {
    let sum = 0
    for (let i = c * PLANE; i < (c + 1) * PLANE; i++) sum += tensor[i]!
    const normalised = sum / PLANE
    return (normalised * IMAGENET_PREPROCESS.std[c]! + IMAGENET_PREPROCESS.mean[c]!) * 255
  })
}

t.test('a solid colour becomes (pixel/255 - mean)/std in each NCHW plane', async (t) => {
  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 200, g: 100, b: 50 } } }).png().toBuffer()
  const tensor = await preprocessImage(png)
  t.equal(tensor.length, 3 * PLANE)
  const expected = [200, 100, 50].map((v, c) => (v / 255 - IMAGENET_PREPROCESS.mean[c]!) / IMAGENET_PREPROCESS.std[c]!)
  for (const c of [0, 1, 2]) {
    t.ok(Math.abs(tensor[c * PLANE]! - expected[c]!) < 1e-5, `channel ${c} first value`)
    t.ok(Math.abs(tensor[(c + 1) * PLANE - 1]! - expected[c]!) < 1e-5, `channel ${c} last value`)
  }
})

t.test('the centre crop keeps the middle 224/256 of the shorter side', async (t) => {
  // 400x256, red in a centre square of 224x224, blue outside: after scaling (a no-op here) and cropping, only red remains.
  const width = 400
  const height = 256
  const raw = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = Math.abs(x - width / 2) < 112 && Math.abs(y - height / 2) < 112
      raw.set(inside ? [255, 0, 0] : [0, 0, 255], (y * width + x) * 3)
    }
  }
  const png = await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer()
  const [r, g, b] = channelMeans(await preprocessImage(png))
  t.ok(r! > 250, `red mean ${r}`)
  t.ok(g! < 5 && b! < 5, `green ${g} and blue ${b} stay out of the crop`)
})

t.test('EXIF orientation is applied before cropping', async (t) => {
  const tensor = await preprocessImage(images.exifRotatedJpeg())
  const [r, g, b] = channelMeans(tensor)
  t.ok(g! > r! && g! > b!, 'the green photo stays green')
  // The stored image is 240x320 (portrait); oriented it is 320x240. A crop computed on the wrong axes would fail.
  const meta = await sharp(images.exifRotatedJpeg()).metadata()
  t.same([meta.width, meta.height, meta.orientation], [240, 320, 6])
})

t.test('PNG with alpha, greyscale and CMYK JPEG all become three sRGB channels with their colour kept', async (t) => {
  const alpha = channelMeans(await preprocessImage(await images.pngWithAlpha('red')))
  t.ok(alpha[0]! > alpha[1]! + 50 && alpha[0]! > alpha[2]! + 50, `alpha is dropped and red stays red: ${alpha}`)
  const grey = channelMeans(await preprocessImage(await images.greyscaleJpeg()))
  t.ok(Math.abs(grey[0]! - grey[1]!) < 1 && Math.abs(grey[1]! - grey[2]!) < 1, `greyscale fills R, G and B equally: ${grey}`)
  const cmyk = channelMeans(await preprocessImage(images.cmykJpeg()))
  t.ok(cmyk[0]! > cmyk[1]! + 50 && cmyk[0]! > cmyk[2]! + 50, `CMYK red converts to sRGB red: ${cmyk}`)
})

t.test('the input size and normalisation follow the spec (a zoo model may want other values)', async (t) => {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer()
  const tensor = await preprocessImage(png, { size: 32, resize: 40, mean: [0.5, 0.5, 0.5], std: [1, 1, 1] })
  t.equal(tensor.length, 3 * 32 * 32)
  t.ok(Math.abs(tensor[0]! - (128 / 255 - 0.5)) < 1e-5)
})

t.test('what cannot be classified is refused with a named error that says why', async (t) => {
  await t.rejects(preprocessImage(images.textFile()), { name: 'InvalidImageError', message: /not an image/ })
  await t.rejects(preprocessImage(images.truncatedJpeg()), { name: 'InvalidImageError', message: /could not be decoded.*premature end/i })
  await t.rejects(preprocessImage(Buffer.alloc(0)), { name: 'InvalidImageError', message: /empty/ })
  await t.rejects(preprocessImage(await images.onePixelPng()), { name: 'ImageTooSmallError', message: new RegExp(`1x1 pixels.*at least ${MIN_INPUT_SIDE}`) })
  await t.rejects(preprocessImage(images.overPixelLimitPng()), { name: 'ImageTooLargeError', message: new RegExp(String(MAX_INPUT_PIXELS)) })
  await t.rejects(preprocessImage(Buffer.alloc(MAX_IMAGE_BYTES + 1)), { name: 'ImageTooLargeError', message: /bytes/ })
  const error = await preprocessImage(images.textFile()).catch((e: unknown) => e)
  t.ok(error instanceof InvalidImageError)
  t.equal((error as InvalidImageError).code, 'invalid_image')
  t.equal(new ImageTooLargeError('x').code, 'image_too_large')
  t.equal(new ImageTooSmallError('x').code, 'image_too_small')
})
