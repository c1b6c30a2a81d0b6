//! Pages sent compressed (`Content-Encoding: gzip`, `deflate`, `br`): decoded with a cap on the
//! decoded size, so that a small compressed page cannot inflate into gigabytes.

use std::io::Read;

/// Why a compressed page could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// It decodes to more than the cap.
    TooLarge,
    /// An encoding the crawler does not read (named).
    Unsupported(String),
    /// The data is not valid for its encoding.
    Corrupt(&'static str),
}

/// One content coding, parsed from the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Gzip,
    Deflate,
    Brotli,
}

fn parse(header: &str) -> Result<Vec<Coding>, DecodeError> {
    let mut codings = Vec::new();
    for name in header.split(',') {
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "" | "identity" => {}
            "gzip" | "x-gzip" => codings.push(Coding::Gzip),
            "deflate" => codings.push(Coding::Deflate),
            "br" => codings.push(Coding::Brotli),
            _ => return Err(DecodeError::Unsupported(name)),
        }
    }
    if codings.len() > 2 {
        return Err(DecodeError::Unsupported(header.trim().to_string()));
    }
    Ok(codings)
}

/// The body of a response with `Content-Encoding: header`, decoded to at most `cap` bytes.
pub(crate) fn decode(
    header: Option<&str>,
    body: Vec<u8>,
    cap: usize,
) -> Result<Vec<u8>, DecodeError> {
    let Some(header) = header else {
        return Ok(body);
    };
    let mut body = body;
    // Codings are listed in the order they were applied: undo them from the last.
    for coding in parse(header)?.into_iter().rev() {
        body = decode_one(coding, &body, cap)?;
    }
    Ok(body)
}

fn decode_one(coding: Coding, data: &[u8], cap: usize) -> Result<Vec<u8>, DecodeError> {
    match coding {
        Coding::Gzip => read_capped(flate2::read::MultiGzDecoder::new(data), cap, "gzip"),
        // "deflate" is zlib-wrapped by the standard; some servers send the raw stream.
        Coding::Deflate if is_zlib(data) => {
            read_capped(flate2::read::ZlibDecoder::new(data), cap, "deflate")
        }
        Coding::Deflate => read_capped(flate2::read::DeflateDecoder::new(data), cap, "deflate"),
        Coding::Brotli => read_capped(
            brotli_decompressor::Decompressor::new(data, 16 << 10),
            cap,
            "brotli",
        ),
    }
}

fn is_zlib(data: &[u8]) -> bool {
    data.len() >= 2
        && data[0] & 0x0f == 8
        && (u16::from(data[0]) << 8 | u16::from(data[1])).is_multiple_of(31)
}

fn read_capped(reader: impl Read, cap: usize, name: &'static str) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    reader
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| DecodeError::Corrupt(name))?;
    if out.len() > cap {
        return Err(DecodeError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn decodes_within_the_cap_and_refuses_beyond() {
        let page = b"<p>hello</p>".repeat(100);
        assert_eq!(decode(Some("gzip"), gzip(&page), 10_000).unwrap(), page);
        assert_eq!(
            decode(Some("gzip"), gzip(&page), 100),
            Err(DecodeError::TooLarge)
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&page).unwrap();
        assert_eq!(
            decode(Some("deflate"), z.finish().unwrap(), 10_000).unwrap(),
            page
        );
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(&page).unwrap();
        assert_eq!(
            decode(Some("Deflate"), raw.finish().unwrap(), 10_000).unwrap(),
            page
        );
        assert_eq!(decode(None, page.clone(), 1).unwrap(), page);
        assert_eq!(
            decode(Some("identity"), page.clone(), 10_000).unwrap(),
            page
        );
        assert_eq!(
            decode(Some("zstd"), page.clone(), 10_000),
            Err(DecodeError::Unsupported("zstd".into()))
        );
        assert_eq!(
            decode(Some("gzip"), page, 10_000),
            Err(DecodeError::Corrupt("gzip"))
        );
    }
}
