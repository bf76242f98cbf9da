//! The printable certificate: the same facts as the QR code, in Vietnamese and English, for the
//! holder to print or save. One renderer serves the web page and `vaxtrace cert issue --out-html`.

use std::fmt::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value as Json;
use time::format_description::well_known::Rfc3339;
use vaxtrace_domain::Vaccine;

use crate::certificates::IssuedCertificate;

const STYLESHEET: &str = include_str!("../web/certificate.css");

/// How the page gets its stylesheet: linked from the server (its CSP allows no inline style), or
/// inlined so a saved file stands alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Styles {
    Linked,
    Inline,
}

/// Minimal HTML escaping for text and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `dd/mm/yyyy` for a `YYYY-MM-DD` date, as Vietnamese documents write it; other shapes as given.
fn vietnamese_date(iso: &str) -> String {
    match (iso.get(0..4), iso.get(5..7), iso.get(8..10)) {
        (Some(y), Some(m), Some(d)) if iso.len() == 10 => format!("{d}/{m}/{y}"),
        _ => iso.to_owned(),
    }
}

/// The page for `cert`.
pub fn render(cert: &IssuedCertificate, styles: Styles) -> String {
    let p = &cert.payload;
    let text = |v: &Json| v.as_str().unwrap_or_default().to_owned();
    let v = &p["v"][0];
    let name = [text(&p["nam"]["fn"]), text(&p["nam"]["gn"])]
        .join(" ")
        .trim()
        .to_owned();
    let icao = [text(&p["nam"]["fnt"]), text(&p["nam"]["gnt"])]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("<<");
    let product = text(&v["mp"]);
    let vaccine = Vaccine::by_code(&product);
    let dose = format!(
        "{}/{}",
        v["dn"].as_u64().unwrap_or_default(),
        v["sd"].as_u64().unwrap_or_default()
    );
    let until = cert
        .expires_at
        .format(&Rfc3339)
        .unwrap_or_default()
        .get(0..10)
        .map(vietnamese_date)
        .unwrap_or_default();
    let qr = STANDARD.encode(cert.svg.as_bytes());
    let style = match styles {
        Styles::Linked => r#"<link rel="stylesheet" href="/static/certificate.css">"#.to_owned(),
        Styles::Inline => format!("<style>{STYLESHEET}</style>"),
    };
    let rows: [(&str, &str, String); 10] = [
        ("Họ và tên", "Name", esc(&name)),
        ("Tên theo ICAO", "Standardised name", esc(&icao)),
        (
            "Ngày sinh",
            "Date of birth",
            esc(&vietnamese_date(&text(&p["dob"]))),
        ),
        ("Bệnh được phòng", "Disease targeted", "COVID-19".to_owned()),
        (
            "Vắc xin",
            "Vaccine",
            esc(vaccine.map_or(product.as_str(), |v| v.name)),
        ),
        (
            "Nhà sản xuất",
            "Manufacturer",
            esc(vaccine.map_or(text(&v["ma"]).as_str(), |v| v.manufacturer)),
        ),
        ("Mũi tiêm", "Dose", esc(&dose)),
        (
            "Ngày tiêm",
            "Date of vaccination",
            esc(&vietnamese_date(&text(&v["dt"]))),
        ),
        ("Mã chứng nhận", "Certificate identifier", esc(&cert.uvci)),
        ("Hiệu lực đến", "Valid until", esc(&until)),
    ];
    let mut dl = String::new();
    for (vi, en, value) in rows {
        let _ = write!(
            dl,
            r#"<dt>{vi}<span class="en" lang="en">{en}</span></dt><dd>{value}</dd>"#
        );
    }
    format!(
        r#"<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chứng nhận tiêm chủng COVID-19 / COVID-19 vaccination certificate</title>
{style}</head>
<body><article class="certificate" id="certificate">
<header><h1>Chứng nhận tiêm chủng COVID-19 <span class="en" lang="en">/ COVID-19 vaccination certificate</span></h1>
<span class="country">VIỆT NAM <span class="en" lang="en">/ VIET NAM</span></span></header>
<div class="body"><dl>{dl}</dl>
<div class="qr"><img alt="Mã QR chứng nhận EU DCC / EU DCC QR code" src="data:image/svg+xml;base64,{qr}"></div></div>
<footer>Cấp bởi Bộ Y tế theo định dạng Chứng nhận COVID số của EU (EU DCC); quét mã QR để kiểm tra. <span class="en" lang="en">Issued by the Ministry of Health of Viet Nam in the EU Digital COVID Certificate format; scan the QR code to verify.</span></footer>
</article></body></html>
"#
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn cert(name_fn: &str) -> IssuedCertificate {
        IssuedCertificate {
            hc1: "HC1:TEST".into(),
            uvci: "URN:UVCI:01:VN:ABC#D".into(),
            payload: json!({
                "ver": "1.3.0",
                "nam": {"fn": name_fn, "fnt": "NGUYEN", "gn": "Thị Đào", "gnt": "THI<DAO"},
                "dob": "1990-05-17",
                "v": [{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215",
                       "dn": 2, "sd": 2, "dt": "2021-09-14", "co": "VN", "is": "Ministry of Health of Viet Nam",
                       "ci": "URN:UVCI:01:VN:ABC#D"}]
            }),
            svg: "<svg></svg>".into(),
            issued_at: datetime!(2021-11-23 0:00 UTC),
            expires_at: datetime!(2022-11-23 0:00 UTC),
            record_id: 1,
            reused: false,
        }
    }

    #[test]
    fn shows_the_certificate_in_both_languages() {
        let page = render(&cert("Nguyễn"), Styles::Inline);
        for expected in [
            "Nguyễn Thị Đào",
            "NGUYEN&lt;&lt;THI&lt;DAO",
            "17/05/1990",
            "14/09/2021",
            "2/2",
            "Comirnaty",
            "Ngày tiêm",
            "Date of vaccination",
            "URN:UVCI:01:VN:ABC#D",
            "23/11/2022",
            "<style>",
        ] {
            assert!(page.contains(expected), "missing {expected:?}");
        }
        assert!(render(&cert("Nguyễn"), Styles::Linked).contains("/static/certificate.css"));
    }

    #[test]
    fn escapes_markup_in_names() {
        let page = render(&cert("<script>alert(1)</script>"), Styles::Linked);
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("&lt;script&gt;"));
    }
}
