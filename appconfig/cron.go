package appconfig

import "gopkg.in/yaml.v3"

// CronInfo is cron.yaml: the application's scheduled jobs.
type CronInfo struct {
	Meta        Meta         `yaml:"-"`
	Application string       `yaml:"application,omitempty"`
	Cron        []*CronEntry `yaml:"cron,omitempty"`
}

// CronEntry is one scheduled job. Schedule is in the groc syntax read by
// internal/groc; Timezone is an IANA zone name (UTC when empty).
type CronEntry struct {
	Meta            Meta                 `yaml:"-"`
	URL             string               `yaml:"url"`
	Schedule        string               `yaml:"schedule"`
	Timezone        string               `yaml:"timezone,omitempty"`
	Description     string               `yaml:"description,omitempty"`
	Target          string               `yaml:"target,omitempty"`
	RetryParameters *CronRetryParameters `yaml:"retry_parameters,omitempty"`
}

// CronRetryParameters says how a failed cron job is retried. Nil fields
// were not given.
type CronRetryParameters struct {
	Meta              Meta     `yaml:"-"`
	JobRetryLimit     *int64   `yaml:"job_retry_limit,omitempty"`
	JobAgeLimit       string   `yaml:"job_age_limit,omitempty"`
	MinBackoffSeconds *float64 `yaml:"min_backoff_seconds,omitempty"`
	MaxBackoffSeconds *float64 `yaml:"max_backoff_seconds,omitempty"`
	MaxDoublings      *int64   `yaml:"max_doublings,omitempty"`
}

func (*CronInfo) SDKName() string            { return "CronInfoExternal" }
func (*CronEntry) SDKName() string           { return "CronEntry" }
func (*CronRetryParameters) SDKName() string { return "RetryParameters" }

// ParseCron reads cron.yaml. A file with no YAML document is refused, as the
// SDK refuses it ("Empty cron configuration."); the model is then nil.
// Problems are the file's YAML and type errors; rules on values are checked
// by the validate package.
func ParseCron(path string, data []byte) (*CronInfo, []Problem) {
	info := &CronInfo{}
	c := parseCompanion(path, data, info, "cron")
	if c.root == nil {
		c.refuseEmpty("Empty cron configuration.", "add a 'cron:' list of jobs, or delete the file")
		return orNil(info, c.r), c.r.Problems
	}
	eachItem(c.root, "cron", info.Cron, func(n *yaml.Node, e *CronEntry) {
		c.stringType(n, "schedule", &e.Meta)
		c.stringType(n, "timezone", &e.Meta)
		if rp := mapValue(n, "retry_parameters"); rp != nil && e.RetryParameters != nil {
			c.timeValueType(rp, "job_age_limit", &e.RetryParameters.Meta)
		}
	})
	return info, c.r.Problems
}
