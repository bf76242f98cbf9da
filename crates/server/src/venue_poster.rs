//! The venue's check-in poster, bilingual, with its signed QR code: a printable HTML page and a
//! PNG image (A4 at 150 dpi) drawn with the vendored `DejaVu Sans` (see `web/vendor/dejavu`).

use std::fmt::Write;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};

use crate::certificate_page::esc;
use crate::certificates::{qr_modules, qr_svg};
use crate::venues::VenueView;

const FONT: &[u8] = include_bytes!("../web/vendor/dejavu/DejaVuSans.ttf");
const WIDTH: usize = 1240;
const HEIGHT: usize = 1754;

#[derive(Debug, thiserror::Error)]
pub enum PosterError {
    #[error("QR code: {0}")]
    Qr(#[from] vaxtrace_cert::CertError),
    #[error("font: {0}")]
    Font(#[from] ab_glyph::InvalidFont),
    #[error("PNG: {0}")]
    Png(#[from] png::EncodingError),
}

/// The poster as a page to print.
pub fn html(venue: &VenueView) -> Result<String, PosterError> {
    let svg = qr_svg(&venue.code)?;
    let mut page = String::from(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
         <title>Mã QR địa điểm / Venue check-in QR</title>\
         <link rel=\"stylesheet\" href=\"/static/poster.css\"></head><body><main class=\"poster\">",
    );
    let _ = write!(
        page,
        "<h1>MÃ QR ĐỊA ĐIỂM KIỂM SOÁT RA VÀO</h1><p class=\"en\">Venue check-in QR code</p>\
         <h2 id=\"venue-name\">{}</h2><p>{} · {}</p><p>{}, {}</p>\
         <div class=\"qr\">{svg}</div>\
         <p>Quét mã bằng trang <b>/checkin</b> để khai báo ra vào</p>\
         <p class=\"en\">Scan with the <b>/checkin</b> page to check in</p>\
         <p class=\"code\" id=\"venue-code\">{}</p></main></body></html>",
        esc(&venue.venue.name),
        esc(venue.kind_vi),
        esc(venue.kind_en),
        esc(&venue.venue.address),
        esc(&venue.place),
        esc(&venue.code),
    );
    Ok(page)
}

/// A grayscale page to draw on.
struct Canvas {
    pixels: Vec<u8>,
    font: FontRef<'static>,
}

impl Canvas {
    fn new() -> Result<Self, PosterError> {
        Ok(Self {
            pixels: vec![255; WIDTH * HEIGHT],
            font: FontRef::try_from_slice(FONT)?,
        })
    }

    fn text_width(&self, text: &str, px: f32) -> f32 {
        let font = self.font.as_scaled(PxScale::from(px));
        let mut width = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = previous {
                width += font.kern(p, id);
            }
            width += font.h_advance(id);
            previous = Some(id);
        }
        width
    }

    /// Splits `text` into lines no wider than the page's margins.
    fn wrap(&self, text: &str, px: f32) -> Vec<String> {
        let max = (WIDTH - 160) as f32;
        let mut lines: Vec<String> = Vec::new();
        for word in text.split_whitespace() {
            match lines.last_mut() {
                Some(line) if self.text_width(&format!("{line} {word}"), px) <= max => {
                    line.push(' ');
                    line.push_str(word);
                }
                _ => lines.push(word.to_owned()),
            }
        }
        lines
    }

    /// Draws `text` centred with its baseline at `y`, wrapped; returns the baseline after it.
    fn centred(&mut self, text: &str, px: f32, mut y: f32) -> f32 {
        for line in self.wrap(text, px) {
            let mut x = (WIDTH as f32 - self.text_width(&line, px)) / 2.0;
            let scale = PxScale::from(px);
            let mut previous = None;
            for c in line.chars() {
                let scaled = self.font.as_scaled(scale);
                let id = scaled.glyph_id(c);
                if let Some(p) = previous {
                    x += scaled.kern(p, id);
                }
                let advance = scaled.h_advance(id);
                if let Some(outline) = self
                    .font
                    .outline_glyph(id.with_scale_and_position(scale, point(x, y)))
                {
                    let bounds = outline.px_bounds();
                    let pixels = &mut self.pixels;
                    outline.draw(|gx, gy, coverage| {
                        let px = bounds.min.x as i64 + i64::from(gx);
                        let py = bounds.min.y as i64 + i64::from(gy);
                        if (0..WIDTH as i64).contains(&px) && (0..HEIGHT as i64).contains(&py) {
                            let at = py as usize * WIDTH + px as usize;
                            let ink = (coverage.clamp(0.0, 1.0) * 255.0) as u8;
                            pixels[at] = pixels[at].min(255 - ink);
                        }
                    });
                }
                x += advance;
                previous = Some(id);
            }
            y += px * 1.3;
        }
        y
    }

    /// Draws the QR code centred, `side` pixels wide, its top at `top`.
    fn qr(&mut self, text: &str, top: usize, side: usize) -> Result<(), PosterError> {
        let (modules, dark) = qr_modules(text)?;
        let scale = side / (modules + 8);
        let left = (WIDTH - scale * (modules + 8)) / 2 + 4 * scale;
        paint_modules(
            &mut self.pixels,
            WIDTH,
            (modules, &dark),
            (left, top + 4 * scale),
            scale,
        );
        Ok(())
    }
}

/// Paints the dark modules of a QR code (`modules` wide) black into a grey-scale image whose rows
/// are `row_width` pixels, each module `scale` pixels square, its top-left corner at `at`.
pub fn paint_modules(
    pixels: &mut [u8],
    row_width: usize,
    (modules, dark): (usize, &[bool]),
    (left, top): (usize, usize),
    scale: usize,
) {
    for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        let (mx, my) = (i % modules, i / modules);
        for y in top + my * scale..top + (my + 1) * scale {
            let row = y * row_width;
            pixels[row + left + mx * scale..row + left + (mx + 1) * scale].fill(0);
        }
    }
}

/// A grey-scale image (`width` pixels a row) as PNG.
pub fn gray_png(width: u32, height: u32, pixels: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(out)
}

/// The poster as a PNG image.
pub fn png(venue: &VenueView) -> Result<Vec<u8>, PosterError> {
    let mut canvas = Canvas::new()?;
    let mut y = canvas.centred("MÃ QR ĐỊA ĐIỂM KIỂM SOÁT RA VÀO", 56.0, 140.0);
    y = canvas.centred("Venue check-in QR code", 40.0, y + 10.0);
    y = canvas.centred(&venue.venue.name, 64.0, y + 50.0);
    y = canvas.centred(
        &format!("{} · {}", venue.kind_vi, venue.kind_en),
        34.0,
        y + 10.0,
    );
    y = canvas.centred(
        &format!("{}, {}", venue.venue.address, venue.place),
        30.0,
        y,
    );
    canvas.qr(&venue.code, y as usize, 860)?;
    let y = canvas.centred("Quét mã để khai báo ra vào", 40.0, y + 900.0);
    canvas.centred("Scan to check in", 34.0, y);
    Ok(gray_png(WIDTH as u32, HEIGHT as u32, &canvas.pixels)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vaxtrace_store::StoredVenue;

    fn venue() -> VenueView {
        VenueView {
            venue: StoredVenue {
                id: 7,
                name: "Chợ Rạch Giá <b>".into(),
                kind: "market".into(),
                commune_code: "30730".into(),
                address: "1 Trần Phú".into(),
                latitude: None,
                longitude: None,
                stay_minutes: 60,
                owner: "owner".into(),
                active: true,
                created_at: time::OffsetDateTime::UNIX_EPOCH,
            },
            kind_vi: "Chợ",
            kind_en: "Market",
            place: "Phường Vĩnh Thanh Vân".into(),
            code: format!("VNV1:{}", "A".repeat(122)),
        }
    }

    #[test]
    fn the_page_escapes_what_the_owner_typed() {
        let page = html(&venue()).unwrap();
        assert!(page.contains("Chợ Rạch Giá &lt;b&gt;"));
        assert!(page.contains("<svg"));
        assert!(page.contains("Venue check-in QR code"));
    }

    #[test]
    fn the_png_is_an_a4_page_with_ink_on_it() {
        let bytes = png(&venue()).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut pixels).unwrap();
        assert_eq!((reader.info().width, reader.info().height), (1240, 1754));
        let dark = pixels.iter().filter(|p| **p < 128).count();
        // Text and a QR code: a good part of the page, far from all of it.
        assert!(
            dark > pixels.len() / 50 && dark < pixels.len() / 2,
            "{dark}"
        );
        // The title band (text only) has ink too: the font drew something.
        assert!(pixels[60 * 1240..160 * 1240].iter().any(|p| *p < 128));
    }
}
