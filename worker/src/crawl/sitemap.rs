//! sitemap.xml: page URLs that seed the crawl (sitemap index files are followed; gzip is not read).

use std::collections::{HashSet, VecDeque};

use quick_xml::Reader;
use quick_xml::events::Event;
use url::Url;

use super::fetch::Fetcher;

/// At most this many sitemap files are fetched per crawl.
const MAX_SITEMAP_FILES: usize = 20;
/// A sitemap may be 50 MB; the crawl never needs more URLs than fit in this prefix.
const MAX_SITEMAP_BYTES: usize = 10 << 20;

/// What one sitemap file lists.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// `<urlset><url><loc>`: pages.
    pub(crate) pages: Vec<String>,
    /// `<sitemapindex><sitemap><loc>`: further sitemap files.
    pub(crate) sitemaps: Vec<String>,
}

/// Reads the `<loc>`s of a sitemap or sitemap index; stops quietly at the first XML error.
pub(crate) fn parse(xml: &str) -> Parsed {
    #[derive(Clone, Copy, PartialEq)]
    enum Entry {
        None,
        Page,
        Sitemap,
    }
    let mut reader = Reader::from_str(xml);
    let mut parsed = Parsed::default();
    let mut entry = Entry::None;
    // Depth of the open <url>/<sitemap>: only its direct <loc> child counts (not <image:loc>).
    let mut entry_depth = 0usize;
    let mut depth = 0usize;
    let mut loc: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                match e.local_name().as_ref() {
                    b"url" => (entry, entry_depth) = (Entry::Page, depth),
                    b"sitemap" => (entry, entry_depth) = (Entry::Sitemap, depth),
                    b"loc" if entry != Entry::None && depth == entry_depth + 1 => {
                        loc = Some(String::new())
                    }
                    _ => {}
                }
            }
            Ok(Event::Text(t)) => {
                if let (Some(loc), Ok(text)) = (&mut loc, t.decode()) {
                    loc.push_str(&text);
                }
            }
            Ok(Event::CData(t)) => {
                if let (Some(loc), Ok(text)) = (&mut loc, t.decode()) {
                    loc.push_str(&text);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(loc) = &mut loc {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => loc.push(c),
                        _ => match &*r {
                            b"amp" => loc.push('&'),
                            b"lt" => loc.push('<'),
                            b"gt" => loc.push('>'),
                            b"quot" => loc.push('"'),
                            b"apos" => loc.push('\''),
                            _ => {}
                        },
                    }
                }
            }
            Ok(Event::End(e)) => {
                if depth == entry_depth + 1
                    && let Some(text) = loc.take()
                {
                    let text = text.trim().to_string();
                    match entry {
                        Entry::Page if !text.is_empty() => parsed.pages.push(text),
                        Entry::Sitemap if !text.is_empty() => parsed.sitemaps.push(text),
                        _ => {}
                    }
                }
                if depth == entry_depth && matches!(e.local_name().as_ref(), b"url" | b"sitemap") {
                    entry = Entry::None;
                }
                depth = depth.saturating_sub(1);
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    parsed
}

/// Fetches the sitemaps at `roots` (following index files) and returns up to `limit` page URLs.
pub(crate) async fn discover(fetcher: &Fetcher, roots: Vec<Url>, limit: usize) -> Vec<Url> {
    let mut queue: VecDeque<Url> = roots.into();
    let mut fetched: HashSet<Url> = HashSet::new();
    let mut pages = Vec::new();
    while let Some(sitemap_url) = queue.pop_front() {
        if pages.len() >= limit || fetched.len() >= MAX_SITEMAP_FILES || fetcher.exhausted() {
            break;
        }
        if !fetched.insert(sitemap_url.clone()) {
            continue;
        }
        let Some(xml) = fetch_one(fetcher, &sitemap_url).await else {
            continue;
        };
        let parsed = parse(&xml);
        for loc in parsed.sitemaps {
            if let Ok(child) = sitemap_url.join(&loc) {
                queue.push_back(child);
            }
        }
        for loc in parsed.pages {
            if pages.len() >= limit {
                break;
            }
            if let Ok(page) = sitemap_url.join(&loc) {
                pages.push(page);
            }
        }
    }
    pages
}

async fn fetch_one(fetcher: &Fetcher, url: &Url) -> Option<String> {
    let (final_url, response) = match fetcher.get(url).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::debug!(%url, error = %e, "sitemap not fetched");
            return None;
        }
    };
    if !response.status().is_success() {
        return None;
    }
    let (body, _) = fetcher
        .read_capped(&final_url, response, MAX_SITEMAP_BYTES)
        .await
        .ok()?;
    if body.starts_with(&[0x1f, 0x8b]) {
        tracing::debug!(%url, "gzip sitemaps are not read");
        return None;
    }
    Some(String::from_utf8_lossy(&body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlset_with_entities_namespaces_and_cdata() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc> https://e.com/a?x=1&amp;y=2 </loc><lastmod>2024-01-01</lastmod>
    <image:image><image:loc>https://e.com/img.png</image:loc></image:image></url>
  <url><loc><![CDATA[https://e.com/b]]></loc></url>
  <url><loc>https://e.com/&#99;</loc></url>
  <url><loc></loc></url>
</urlset>"#;
        let parsed = parse(xml);
        assert_eq!(
            parsed.pages,
            [
                "https://e.com/a?x=1&y=2",
                "https://e.com/b",
                "https://e.com/c"
            ]
        );
        assert!(parsed.sitemaps.is_empty());
    }

    #[test]
    fn sitemap_index() {
        let xml = r#"<sm:sitemapindex xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">
            <sm:sitemap><sm:loc>https://e.com/sm1.xml</sm:loc></sm:sitemap>
            <sm:sitemap><sm:loc>https://e.com/sm2.xml</sm:loc></sm:sitemap></sm:sitemapindex>"#;
        let parsed = parse(xml);
        assert_eq!(
            parsed.sitemaps,
            ["https://e.com/sm1.xml", "https://e.com/sm2.xml"]
        );
        assert!(parsed.pages.is_empty());
    }

    #[test]
    fn broken_xml_keeps_what_came_before() {
        let parsed =
            parse("<urlset><url><loc>https://e.com/ok</loc></url><url><loc>https://e.com/cut");
        assert_eq!(parsed.pages, ["https://e.com/ok"]);
        assert_eq!(parse("not xml at all <<<>>>"), Parsed::default());
        assert_eq!(parse(""), Parsed::default());
    }
}
