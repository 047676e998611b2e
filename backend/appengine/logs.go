package appengine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// logEntry is the part of a Cloud Logging LogEntry with an App Engine
// RequestLog payload that request logs need.
type logEntry struct {
	InsertID     string    `json:"insertId"`
	Timestamp    time.Time `json:"timestamp"`
	ProtoPayload *struct {
		AppID        string    `json:"appId"`
		ModuleID     string    `json:"moduleId"`
		VersionID    string    `json:"versionId"`
		IP           string    `json:"ip"`
		Method       string    `json:"method"`
		Resource     string    `json:"resource"`
		HTTPVersion  string    `json:"httpVersion"`
		Status       int       `json:"status"`
		ResponseSize string    `json:"responseSize"`
		Referrer     string    `json:"referrer"`
		UserAgent    string    `json:"userAgent"`
		Host         string    `json:"host"`
		Latency      string    `json:"latency"`
		StartTime    time.Time `json:"startTime"`
		Line         []struct {
			Time       time.Time `json:"time"`
			Severity   string    `json:"severity"`
			LogMessage string    `json:"logMessage"`
		} `json:"line"`
	} `json:"protoPayload"`
	Resource struct {
		Labels map[string]string `json:"labels"`
	} `json:"resource"`
}

// LogFilter is the Logging query for a LogQuery: gae_app request logs of
// the project, optionally of one service and version, in the time window,
// after the resume point. Timestamps are request start times.
func LogFilter(project string, q backend.LogQuery) string {
	parts := []string{
		`resource.type="gae_app"`,
		fmt.Sprintf(`logName="projects/%s/logs/appengine.googleapis.com%%2Frequest_log"`, project),
	}
	if q.Service != "" {
		parts = append(parts, fmt.Sprintf(`resource.labels.module_id=%q`, q.Service))
	}
	if q.Version != "" {
		parts = append(parts, fmt.Sprintf(`resource.labels.version_id=%q`, q.Version))
	}
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	if !q.Start.IsZero() {
		parts = append(parts, fmt.Sprintf(`timestamp>=%q`, ts(q.Start)))
	}
	if !q.End.IsZero() {
		parts = append(parts, fmt.Sprintf(`timestamp<%q`, ts(q.End)))
	}
	if !q.AfterTime.IsZero() {
		parts = append(parts, fmt.Sprintf(`(timestamp>%q OR (timestamp=%q AND insertId>%q))`, ts(q.AfterTime), ts(q.AfterTime), q.AfterID))
	}
	return strings.Join(parts, " AND ")
}

// lineSeverity is an app log line's level; an unknown name reads as debug.
func lineSeverity(name string) backend.Severity {
	level, _ := backend.ParseSeverity(name)
	return level
}

func (e logEntry) toRequestLog(project string) (backend.RequestLog, bool) {
	p := e.ProtoPayload
	if p == nil {
		return backend.RequestLog{}, false
	}
	l := backend.RequestLog{
		ID: e.InsertID, Time: e.Timestamp, IP: p.IP, Method: p.Method, Resource: p.Resource,
		HTTPVersion: p.HTTPVersion, Status: p.Status, Referrer: p.Referrer, UserAgent: p.UserAgent,
		Host: p.Host, App: project, Service: p.ModuleID, Version: p.VersionID,
	}
	if l.Service == "" {
		l.Service = e.Resource.Labels["module_id"]
	}
	if l.Version == "" {
		l.Version = e.Resource.Labels["version_id"]
	}
	l.Bytes, _ = strconv.ParseInt(p.ResponseSize, 10, 64)
	if d, err := time.ParseDuration(p.Latency); err == nil {
		l.Latency = d
	}
	for _, ln := range p.Line {
		l.AppLogs = append(l.AppLogs, backend.AppLogLine{Time: ln.Time, Level: lineSeverity(ln.Severity), Message: ln.LogMessage})
	}
	return l, true
}

// ReadLogs implements backend.LogReader with entries:list, oldest first,
// 1000 entries a page. A page with no entries but a token is normal (the
// search ran out of time) and paging goes on.
func (b *Backend) ReadLogs(ctx context.Context, q backend.LogQuery, fn func(backend.RequestLog) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	project, err := b.projectOf(q.App)
	if err != nil {
		return err
	}
	body := map[string]any{
		"resourceNames": []string{"projects/" + project},
		"filter":        LogFilter(project, q),
		"orderBy":       "timestamp asc",
		"pageSize":      1000,
	}
	return paginate(func(token string) (string, error) {
		if token != "" {
			body["pageToken"] = token
		}
		var page struct {
			Entries       []logEntry `json:"entries"`
			NextPageToken string     `json:"nextPageToken"`
		}
		// entries:list only reads: retrying it is safe.
		if err := b.do(ctx, request{api: apiLogging, method: "POST", url: b.ep.Logging + "v2/entries:list",
			body: body, out: &page, idempotent: true}); err != nil {
			return "", fmt.Errorf("reading the request logs of %s: %w", project, err)
		}
		for _, e := range page.Entries {
			l, ok := e.toRequestLog(project)
			if !ok {
				continue
			}
			if err := fn(l); err != nil {
				return "", err
			}
		}
		return page.NextPageToken, nil
	})
}
