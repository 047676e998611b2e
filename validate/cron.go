package validate

import (
	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/groc"
)

// checkCron checks cron.yaml as croninfo.LoadSingleCron does, with the
// schedule and time zone checks the SDK makes when groc and pytz are present.
func checkCron(path string, data []byte, opts Options) FileResult {
	return checkCompanion(KindCron, path, data, opts, appconfig.ParseCron,
		func(c *checker, info *appconfig.CronInfo) (*appconfig.Meta, *string) {
			for _, e := range info.Cron {
				if e != nil {
					c.cronEntry(e)
				}
			}
			return &info.Meta, &info.Application
		})
}

var (
	cronURL         = sdkPattern(`^/.*$`, `/.*`)
	descriptionText = sdkPattern(`^.{0,499}$`, `.{0,499}`)
	// croninfo._VERSION_REGEX: [module:]version.
	cronTarget = sdkPattern(`^(?:(?:((?!-)[a-z\d\-]{1,63}):)?)((?!-)[a-z\d\-]{1,100})$`,
		`(?:(?:([a-z\d][a-z\d\-]{0,62}):)?)([a-z\d][a-z\d\-]{0,99})`)
)

func (c *checker) cronEntry(e *appconfig.CronEntry) {
	m := &e.Meta
	if c.required(m, "url") {
		c.regex(m, "url", e.URL, cronURL, "the url is a path of this application starting with /")
	}
	if c.required(m, "schedule") && c.isText(m, "schedule") {
		if _, err := groc.Parse(e.Schedule); err != nil {
			c.r.Errorf(m.At("schedule"), m.Field("schedule"), "schedule '%s' failed to parse: %v", e.Schedule, err).
				Hint = "write a schedule such as 'every 5 minutes', 'every monday 09:00' or '1st,3rd monday of sep,oct 17:00'"
		}
	}
	if given(m, "timezone") && c.isText(m, "timezone") {
		if _, err := groc.LoadZone(e.Timezone); err != nil {
			c.r.Errorf(m.At("timezone"), m.Field("timezone"), "timezone '%s' is unknown", e.Timezone).
				Hint = "use an IANA time zone name such as America/New_York or Europe/Paris"
		}
	}
	c.regex(m, "description", e.Description, descriptionText, "a description is one line of at most 499 characters")
	c.regex(m, "target", e.Target, cronTarget, "a target is a version, or service:version, in lowercase letters, digits and hyphens")
	if rp := e.RetryParameters; rp != nil {
		rm := &rp.Meta
		c.intAtLeast(rm, "job_retry_limit", rp.JobRetryLimit, true)
		c.timeValue(rm, "job_age_limit", rp.JobAgeLimit)
		c.floatAtLeast(rm, "min_backoff_seconds", rp.MinBackoffSeconds)
		c.floatAtLeast(rm, "max_backoff_seconds", rp.MaxBackoffSeconds)
		c.intAtLeast(rm, "max_doublings", rp.MaxDoublings, false)
	}
}

// isText reports whether key holds a value the parser did not already
// refuse for its YAML type (schedule: 5 is not text), so that one mistake
// gives one problem.
func (c *checker) isText(m *appconfig.Meta, key string) bool {
	field := m.Field(key)
	for _, p := range c.r.Problems {
		if p.Field == field && !p.Warning {
			return false
		}
	}
	return true
}
