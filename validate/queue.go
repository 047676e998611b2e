package validate

import (
	"github.com/appcfg/appcfg/appconfig"
)

// checkQueue checks queue.yaml as queueinfo.LoadSingleQueue does.
func checkQueue(path string, data []byte, opts Options) FileResult {
	return checkCompanion(KindQueue, path, data, opts, appconfig.ParseQueue,
		func(c *checker, info *appconfig.QueueInfo) (*appconfig.Meta, *string) {
			m := &info.Meta
			c.regex(m, "total_storage_limit", info.TotalStorageLimit, totalStorageLimit,
				"give a number of bytes with an optional unit B, K, M, G or T, such as 500M")
			c.regex(m, "resume_paused_queues", info.ResumePausedQueues, resumePaused, "write true or false")
			for _, q := range info.Queue {
				if q != nil {
					c.queueEntry(q)
				}
			}
			return m, &info.Application
		})
}

var (
	queueName         = sdkPattern(`^[A-Za-z0-9-]{0,499}$`, `[A-Za-z0-9-]{0,499}`)
	queueRate         = sdkPattern(`^(0|[0-9]+(\.[0-9]*)?/[smhd])`, `(0|[0-9]+(\.[0-9]*)?/[smhd])`)
	queueMode         = sdkPattern(`(pull)|(push)`, `(pull)|(push)`)
	totalStorageLimit = sdkPattern(`^([0-9]+(\.[0-9]*)?[BKMGT]?)`, `([0-9]+(\.[0-9]*)?[BKMGT]?)`)
	resumePaused      = sdkPattern(`(True)|(False)`, `(True)|(False)`)
	// queueinfo._VERSION_REGEX: [version.]service.
	queueTarget = sdkPattern(`^(?:(?:((?!-)[a-z\d\-]{1,100})\.)?)((?!-)[a-z\d\-]{1,63})$`,
		`(?:(?:([a-z\d][a-z\d\-]{0,99})\.)?)([a-z\d][a-z\d\-]{0,62})`)
)

func (c *checker) queueEntry(q *appconfig.QueueEntry) {
	m := &q.Meta
	if c.required(m, "name") {
		c.regex(m, "name", q.Name, queueName, "a queue name is letters, digits and hyphens, at most 499 of them")
	}
	c.regex(m, "rate", q.Rate, queueRate, "write 0 or a number of tasks per unit of time, such as 5/s, 10/m, 2.5/h or 100/d")
	c.regex(m, "mode", q.Mode, queueMode, "write push or pull")
	c.regex(m, "target", q.Target, queueTarget, "a target is a service, or version.service, in lowercase letters, digits and hyphens")
	if rp := q.RetryParameters; rp != nil {
		c.timeValue(&rp.Meta, "task_age_limit", rp.TaskAgeLimit)
	}
}
