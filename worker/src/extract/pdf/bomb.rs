//! Refuses PDFs whose streams unpack to far more than any real document needs (decompression
//! bombs), before any parser unpacks them into memory.

use std::io::Read;

use pdf_extract::{Document, Object, Stream};

/// Most bytes one stream may unpack to.
pub(super) const MAX_STREAM_BYTES: u64 = 32 << 20;
/// Most bytes all the document's streams (images aside) may unpack to.
pub(super) const MAX_TOTAL_BYTES: u64 = 256 << 20;

/// Why the document is refused, if its Flate streams unpack beyond the limits. Images are not
/// counted: no text is read from them.
pub(super) fn check(doc: &Document) -> Result<(), String> {
    let mut total = 0u64;
    for object in doc.objects.values() {
        let Object::Stream(stream) = object else {
            continue;
        };
        if is_image(stream) || !starts_with_flate(stream) {
            continue;
        }
        let size = inflated_size(&stream.content, MAX_STREAM_BYTES + 1);
        if size > MAX_STREAM_BYTES {
            return Err(format!(
                "the PDF has a stream that unpacks to more than {} MB: it was refused as a possible decompression bomb",
                MAX_STREAM_BYTES >> 20
            ));
        }
        total += size;
        if total > MAX_TOTAL_BYTES {
            return Err(format!(
                "the PDF unpacks to more than {} MB: it was refused as a possible decompression bomb",
                MAX_TOTAL_BYTES >> 20
            ));
        }
    }
    Ok(())
}

fn is_image(stream: &Stream) -> bool {
    stream
        .dict
        .get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|n| n == b"Image")
}

fn starts_with_flate(stream: &Stream) -> bool {
    stream
        .filters()
        .is_ok_and(|f| f.first().is_some_and(|n| *n == b"FlateDecode"))
}

/// Bytes `data` inflates to, counting at most `cap`; what was inflated before an error counts.
fn inflated_size(data: &[u8], cap: u64) -> u64 {
    let mut decoder = flate2::read::ZlibDecoder::new(data).take(cap);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    while let Ok(n) = decoder.read(&mut buf) {
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn sizes_are_counted_up_to_the_cap() {
        let packed = deflate(&vec![b' '; 1 << 20]);
        assert_eq!(inflated_size(&packed, u64::MAX), 1 << 20);
        assert_eq!(inflated_size(&packed, 1000), 1000);
        assert_eq!(inflated_size(b"not zlib", 1000), 0);
    }
}
