//! Which URLs belong to the crawled site, their canonical form and their dedup key.

use url::Url;

/// The site being crawled: the scheme, host and port of the start page after its redirects.
#[derive(Clone, Debug)]
pub(crate) struct Site {
    scheme: String,
    host: String,
    port: Option<u16>,
}

fn without_www(host: &str) -> &str {
    host.strip_prefix("www.").unwrap_or(host)
}

impl Site {
    /// The site `url` is on.
    pub(crate) fn new(url: &Url) -> Site {
        Site {
            scheme: url.scheme().to_string(),
            host: url.host_str().unwrap_or("").to_string(),
            port: url.port(),
        }
    }

    /// `{scheme}://{host}[:port]/`, where robots.txt and sitemap.xml live.
    pub(crate) fn root(&self) -> Url {
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        let host = if self.host.contains(':') {
            format!("[{}]", self.host.trim_matches(['[', ']']))
        } else {
            self.host.clone()
        };
        Url::parse(&format!("{}://{host}{port}/", self.scheme)).expect("a site root is a valid URL")
    }

    /// `url` rewritten onto this site (www. variants and an http link on an https site count as
    /// the site), without fragment or empty query; None when it is another site.
    pub(crate) fn canonical(&self, url: &Url) -> Option<Url> {
        let host = url.host_str()?;
        if without_www(host) != without_www(&self.host) {
            return None;
        }
        let same_origin = url.scheme() == self.scheme && url.port() == self.port;
        let upgrade = url.scheme() == "http"
            && self.scheme == "https"
            && url.port().is_none()
            && self.port.is_none();
        if !same_origin && !upgrade {
            return None;
        }
        let mut url = url.clone();
        url.set_scheme(&self.scheme).ok()?;
        if host != self.host {
            url.set_host(Some(&self.host)).ok()?;
        }
        url.set_fragment(None);
        if url.query() == Some("") {
            url.set_query(None);
        }
        Some(url)
    }
}

/// The dedup key of a canonical URL: `/dir/index.html` and `/dir/` are one page.
pub(crate) fn dedup_key(url: &Url) -> String {
    let mut key = url.clone();
    let path = key.path().to_string();
    for index in ["index.html", "index.htm"] {
        if let Some(dir) = path.strip_suffix(index)
            && dir.ends_with('/')
        {
            key.set_path(dir);
            break;
        }
    }
    key.into()
}

const NOT_HTML: &[&str] = &[
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "svg", "ico", "bmp", "tif", "tiff", "avif", "heic",
    "mp3", "mp4", "m4a", "m4v", "wav", "ogg", "oga", "webm", "mov", "avi", "mkv", "flac", "zip",
    "gz", "tgz", "tar", "rar", "7z", "bz2", "xz", "zst", "exe", "dmg", "msi", "deb", "rpm", "apk",
    "iso", "img", "bin", "jar", "css", "js", "mjs", "map", "json", "xml", "rss", "atom", "txt",
    "csv", "tsv", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "epub",
    "woff", "woff2", "ttf", "otf", "eot", "wasm", "ics", "vcf", "psd", "ai", "eps",
];

/// The file extension of `url` when it names something that is not a web page (`.pdf`, images…).
pub(crate) fn non_html_extension(url: &Url) -> Option<String> {
    let last = url.path_segments()?.next_back()?;
    let (_, ext) = last.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    NOT_HTML.contains(&ext.as_str()).then_some(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn canon(site: &str, link: &str) -> Option<String> {
        Site::new(&url(site))
            .canonical(&url(link))
            .map(String::from)
    }

    #[test]
    fn same_site_rules() {
        let site = "https://www.example.com/start";
        assert_eq!(
            canon(site, "https://www.example.com/a?b=1#frag").as_deref(),
            Some("https://www.example.com/a?b=1")
        );
        assert_eq!(
            canon(site, "https://EXAMPLE.com:443/a?").as_deref(),
            Some("https://www.example.com/a")
        );
        assert_eq!(
            canon(site, "http://example.com/a").as_deref(),
            Some("https://www.example.com/a")
        );
        assert_eq!(canon(site, "https://docs.example.com/a"), None);
        assert_eq!(canon(site, "https://www.example.com:8443/a"), None);
        assert_eq!(canon(site, "https://example.org/a"), None);
        assert_eq!(canon("http://example.com/", "https://example.com/a"), None);
        assert_eq!(
            canon("http://127.0.0.1:8080/", "http://127.0.0.1:8080/x").as_deref(),
            Some("http://127.0.0.1:8080/x")
        );
        assert_eq!(
            canon("http://127.0.0.1:8080/", "http://127.0.0.1:8081/x"),
            None
        );
        assert_eq!(
            canon("http://127.0.0.1:8080/", "http://localhost:8080/x"),
            None
        );
    }

    #[test]
    fn roots() {
        assert_eq!(
            Site::new(&url("https://www.example.com/a/b"))
                .root()
                .as_str(),
            "https://www.example.com/"
        );
        assert_eq!(
            Site::new(&url("http://127.0.0.1:81/a")).root().as_str(),
            "http://127.0.0.1:81/"
        );
        assert_eq!(
            Site::new(&url("http://[::1]:81/a")).root().as_str(),
            "http://[::1]:81/"
        );
    }

    #[test]
    fn index_pages_share_a_key() {
        assert_eq!(
            dedup_key(&url("https://e.com/docs/index.html")),
            dedup_key(&url("https://e.com/docs/"))
        );
        assert_eq!(dedup_key(&url("https://e.com/index.htm")), "https://e.com/");
        assert_eq!(
            dedup_key(&url("https://e.com/myindex.html")),
            "https://e.com/myindex.html"
        );
        assert_ne!(
            dedup_key(&url("https://e.com/?p=1")),
            dedup_key(&url("https://e.com/?p=2"))
        );
    }

    #[test]
    fn non_html_extensions() {
        assert_eq!(
            non_html_extension(&url("https://e.com/a/Report.PDF")).as_deref(),
            Some("pdf")
        );
        assert_eq!(
            non_html_extension(&url("https://e.com/logo.png?x=1")).as_deref(),
            Some("png")
        );
        assert_eq!(non_html_extension(&url("https://e.com/page.html")), None);
        assert_eq!(non_html_extension(&url("https://e.com/v1.2/")), None);
        assert_eq!(non_html_extension(&url("https://e.com/docs")), None);
    }
}
