//! The admin console's page: static HTML, CSS and JavaScript embedded in the library (and copied
//! into the app's jar), no CDN and no build step. The script renders everything it gets from
//! the API as text (`textContent`), never as markup.

/// The asset at `path` (`/`, `/app.js`, `/editor.js`, `/app.css`): its content type and bytes.
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    match path {
        "/" | "/index.html" => Some(("text/html; charset=utf-8", include_bytes!("page/index.html"))),
        "/app.js" => Some(("text/javascript; charset=utf-8", include_bytes!("page/app.js"))),
        "/editor.js" => Some(("text/javascript; charset=utf-8", include_bytes!("page/editor.js"))),
        "/app.css" => Some(("text/css; charset=utf-8", include_bytes!("page/app.css"))),
        _ => None,
    }
}

/// The page's Content-Security-Policy: its own script and style only, API calls to itself.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; \
     form-action 'none'; frame-ancestors 'none'; base-uri 'none'";
