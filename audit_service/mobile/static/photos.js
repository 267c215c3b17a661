// Photos are downscaled on the phone before they are stored or sent: at most 1600 px on the
// long side, JPEG at quality 0.8. EXIF orientation is applied by the browser's decoder.

export const MAX_SIDE = 1600;
export const QUALITY = 0.8;

async function decode(file) {
  if (typeof createImageBitmap === "function") {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch {
      /* fall back to <img>, which some formats decode where ImageBitmap does not */
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.decoding = "async";
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** A downscaled JPEG: resolves {blob, width, height}. Rejects if the file is not an image. */
export async function downscale(file, maxSide = MAX_SIDE, quality = QUALITY) {
  const src = await decode(file);
  const w0 = src.width || src.naturalWidth;
  const h0 = src.height || src.naturalHeight;
  if (!w0 || !h0) throw new Error("empty image");
  const scale = Math.min(1, maxSide / Math.max(w0, h0));
  const width = Math.max(1, Math.round(w0 * scale));
  const height = Math.max(1, Math.round(h0 * scale));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff"; // JPEG has no alpha: transparent PNG areas become white, not black
  ctx.fillRect(0, 0, width, height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(src, 0, 0, width, height);
  if (typeof src.close === "function") src.close();
  const blob = await new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encoding failed"))), "image/jpeg", quality),
  );
  canvas.width = 0; // release the bitmap memory now (phones have little)
  canvas.height = 0;
  return { blob, width, height };
}
