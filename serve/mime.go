package serve

import (
	"path"
	"strings"
	"sync"
)

// mimeTypes is the fixed extension table: the legacy tool used Python's
// mimetypes, whose answers depend on the machine's /etc/mime.types; a fixed
// table gives every machine the same answers. It holds the common web types
// plus the legacy tool's own additions (.dart, .gss, .ng, .ttf, .woff,
// .woff2). It is built on first use, by serve: at init it cost every
// command a 5 KB map.
var mimeTypes = sync.OnceValue(func() map[string]string {
	return map[string]string{
		".7z": "application/x-7z-compressed", ".aac": "audio/aac", ".apng": "image/apng",
		".atom": "application/atom+xml", ".avif": "image/avif", ".bin": "application/octet-stream",
		".bmp": "image/bmp", ".bz2": "application/x-bzip2", ".css": "text/css", ".csv": "text/csv",
		".dart": "application/dart", ".doc": "application/msword",
		".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		".eot":  "application/vnd.ms-fontobject", ".epub": "application/epub+zip", ".flac": "audio/flac",
		".gif": "image/gif", ".gss": "text/css", ".gz": "application/gzip", ".htm": "text/html",
		".html": "text/html", ".ico": "image/x-icon", ".ics": "text/calendar", ".jar": "application/java-archive",
		".jpeg": "image/jpeg", ".jpg": "image/jpeg", ".js": "application/javascript", ".json": "application/json",
		".jsonld": "application/ld+json", ".m4a": "audio/mp4", ".manifest": "text/cache-manifest",
		".map": "application/json", ".md": "text/markdown", ".mid": "audio/midi", ".midi": "audio/midi",
		".mjs": "application/javascript", ".mov": "video/quicktime", ".mp3": "audio/mpeg", ".mp4": "video/mp4",
		".mpeg": "video/mpeg", ".ng": "text/html", ".odp": "application/vnd.oasis.opendocument.presentation",
		".ods": "application/vnd.oasis.opendocument.spreadsheet", ".odt": "application/vnd.oasis.opendocument.text",
		".oga": "audio/ogg", ".ogg": "audio/ogg", ".ogv": "video/ogg", ".otf": "font/otf", ".pdf": "application/pdf",
		".png": "image/png", ".ppt": "application/vnd.ms-powerpoint",
		".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
		".rar":  "application/vnd.rar", ".rss": "application/rss+xml", ".rtf": "application/rtf", ".svg": "image/svg+xml",
		".svgz": "image/svg+xml", ".swf": "application/x-shockwave-flash", ".tar": "application/x-tar",
		".tif": "image/tiff", ".tiff": "image/tiff", ".ttf": "application/x-font-ttf", ".txt": "text/plain",
		".vtt": "text/vtt", ".wasm": "application/wasm", ".wav": "audio/x-wav", ".weba": "audio/webm",
		".webm": "video/webm", ".webmanifest": "application/manifest+json", ".webp": "image/webp",
		".woff": "application/font-woff", ".woff2": "application/font-woff2", ".xhtml": "application/xhtml+xml",
		".xls":  "application/vnd.ms-excel",
		".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xml": "application/xml",
		".yaml": "application/x-yaml", ".yml": "application/x-yaml", ".zip": "application/zip",
	}
})

// defaultMime is the type of a file whose extension is not in the table,
// as in the legacy tool.
const defaultMime = "application/octet-stream"

// MimeType guesses a file's type from its name's extension, ignoring case.
func MimeType(name string) string {
	if t, ok := mimeTypes()[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return defaultMime
}
