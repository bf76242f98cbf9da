//! Reading the QR code in a PNG image (the conformance cases' `2DCODE`).

/// Largest image decoded, in pixels (a QR scan needs far fewer).
const MAX_PIXELS: usize = 4096 * 4096;
/// Memory the PNG decoder may allocate.
const MAX_PNG_ALLOC: usize = 64 * 1024 * 1024;

/// The text of the first readable QR code in a PNG image.
pub fn decode_png_qr(png_bytes: &[u8]) -> Result<String, String> {
    let (width, height, luma) = png_luma(png_bytes)?;
    // rqrr is third-party image analysis on untrusted pixels: contain any panic as a failure.
    std::panic::catch_unwind(|| {
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| luma[y * width + x]);
        let grids = image.detect_grids();
        if grids.is_empty() {
            return Err("no QR code found in the image".to_owned());
        }
        let mut last = String::new();
        for grid in grids {
            match grid.decode() {
                Ok((_, text)) => return Ok(text),
                Err(e) => last = e.to_string(),
            }
        }
        Err(format!("the QR code cannot be decoded: {last}"))
    })
    .unwrap_or_else(|_| Err("the QR reader failed on this image".to_owned()))
}

/// Decodes a PNG into 8-bit grey levels.
fn png_luma(png_bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), String> {
    let mut decoder = png::Decoder::new_with_limits(
        std::io::Cursor::new(png_bytes),
        png::Limits {
            bytes: MAX_PNG_ALLOC,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("not a PNG image: {e}"))?;
    let (width, height) = {
        let info = reader.info();
        (info.width as usize, info.height as usize)
    };
    if width == 0 || height == 0 || width.saturating_mul(height) > MAX_PIXELS {
        return Err(format!("unusable image size {width}x{height}"));
    }
    let size = reader
        .output_buffer_size()
        .ok_or("the image is too large to decode")?;
    let mut buf = vec![0; size];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("broken PNG image: {e}"))?;
    let channels = frame.color_type.samples();
    let stride = frame.line_size;
    if channels == 0 || stride < width * channels || buf.len() < stride * height {
        return Err("unexpected PNG layout".to_owned());
    }
    let mut luma = Vec::with_capacity(width * height);
    for row in buf.chunks_exact(stride).take(height) {
        for px in row[..width * channels].chunks_exact(channels) {
            let grey = match px {
                [g] | [g, _] => *g,
                [r, g, b, ..] => {
                    ((u32::from(*r) * 299 + u32::from(*g) * 587 + u32::from(*b) * 114) / 1000) as u8
                }
                [] => 0,
            };
            luma.push(grey);
        }
    }
    Ok((width, height, luma))
}
