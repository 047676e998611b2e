package logs

import (
	"strconv"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/logline"
)

// blockFormatter formats the blocks of a backend.LogBlockReader. Each
// distinct value of a block is escaped once; most need no escape and are
// used as they are. A request line is then a run of copies and three
// numbers. The output is the same as formatter.appendLog's.
type blockFormatter struct {
	fm    *formatter
	vhost string
	// text[f][i] is Dict[f][i] as the line shows it: escaped, "-" for an
	// empty value where Apache writes one.
	text   [backend.NumLogFields][]string
	hostOK []bool // per host value: whether it matches vhost
	extra  []byte // " app=… module=… version=… request_id=" with IncludeAll
}

func newBlockFormatter(fm *formatter, vhost string) *blockFormatter {
	return &blockFormatter{fm: fm, vhost: vhost}
}

// prepare escapes the values of bl's dictionaries.
func (bf *blockFormatter) prepare(bl *backend.LogBlock) {
	f := bf.fm.f
	for field, values := range bl.Dict {
		text := bf.text[field][:0]
		if backend.LogField(field) == backend.LogHost && !f.IncludeVHost && !f.IncludeAll {
			bf.text[field] = text
			continue
		}
		ip := backend.LogField(field) == backend.LogIP
		dash := field != int(backend.LogMethod) && field != int(backend.LogResource) && field != int(backend.LogHTTPVersion)
		for _, v := range values {
			switch {
			case v == "" && dash:
				v = "-"
			case logline.PlainPrefix(v, ip) == len(v):
			case ip:
				v = string(logline.AppendField(nil, v))
			default:
				v = string(logline.AppendEscaped(nil, v))
			}
			text = append(text, v)
		}
		bf.text[field] = text
	}
	bf.hostOK = bf.hostOK[:0]
	if bf.vhost != "" {
		for _, h := range bl.Dict[backend.LogHost] {
			bf.hostOK = append(bf.hostOK, matchesVHost(h, bf.vhost))
		}
	}
	bf.extra = bf.extra[:0]
	if f.IncludeAll {
		bf.extra = append(logline.AppendField(append(bf.extra, " app="...), bl.App), " module="...)
		bf.extra = append(logline.AppendField(bf.extra, bl.Service), " version="...)
		bf.extra = append(logline.AppendField(bf.extra, bl.Version), " request_id="...)
	}
}

// done drops the block's strings, so they are not kept past it.
func (bf *blockFormatter) done() {
	for f := range bf.text {
		clear(bf.text[f])
	}
}

// keep reports whether record r passes the --vhost filter.
func (bf *blockFormatter) keep(r *backend.LogRecord) bool {
	return bf.vhost == "" || bf.hostOK[r.Str[backend.LogHost]]
}

// appendRecord appends the lines of record i of bl (prepared), and returns
// how many lines it wrote.
func (bf *blockFormatter) appendRecord(b []byte, bl *backend.LogBlock, i int) ([]byte, int) {
	r := &bl.Records[i]
	f := bf.fm.f
	t := &bf.text
	b = append(b, t[backend.LogIP][r.Str[backend.LogIP]]...)
	b = append(b, " - - "...)
	b = append(b, bf.fm.timestampNanos(r.Time)...)
	b = append(b, ` "`...)
	b = append(b, t[backend.LogMethod][r.Str[backend.LogMethod]]...)
	b = append(b, ' ')
	b = append(b, t[backend.LogResource][r.Str[backend.LogResource]]...)
	b = append(b, ' ')
	b = append(b, t[backend.LogHTTPVersion][r.Str[backend.LogHTTPVersion]]...)
	b = append(b, `" `...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.Bytes, 10)
	b = append(b, ` "`...)
	b = append(b, t[backend.LogReferrer][r.Str[backend.LogReferrer]]...)
	b = append(b, `" "`...)
	b = append(b, t[backend.LogUserAgent][r.Str[backend.LogUserAgent]]...)
	b = append(b, '"')
	if f.IncludeVHost || f.IncludeAll {
		b = append(b, ` "`...)
		b = append(b, t[backend.LogHost][r.Str[backend.LogHost]]...)
		b = append(b, '"')
	}
	b = append(b, " ms="...)
	b = strconv.AppendInt(b, r.Latency.Milliseconds(), 10)
	if f.IncludeAll {
		b = append(b, bf.extra...)
		b = logline.AppendField(b, bl.ID(i))
	}
	b = append(b, '\n')
	if len(r.AppLogs) == 0 {
		return b, 1
	}
	return bf.fm.appendAppLogs(b, r.AppLogs)
}
