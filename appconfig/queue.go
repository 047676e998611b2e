package appconfig

import "gopkg.in/yaml.v3"

// QueueInfo is queue.yaml: the application's task queues.
type QueueInfo struct {
	Meta               Meta          `yaml:"-"`
	Application        string        `yaml:"application,omitempty"`
	TotalStorageLimit  string        `yaml:"total_storage_limit,omitempty"`
	ResumePausedQueues string        `yaml:"resume_paused_queues,omitempty"`
	Queue              []*QueueEntry `yaml:"queue,omitempty"`
}

// QueueEntry is one task queue. Rate is "0" or <number>/<s|m|h|d>; Mode is
// push (the default when empty) or pull. Nil numbers were not given.
type QueueEntry struct {
	Meta                  Meta                  `yaml:"-"`
	Name                  string                `yaml:"name"`
	Rate                  string                `yaml:"rate,omitempty"`
	Mode                  string                `yaml:"mode,omitempty"`
	BucketSize            *int64                `yaml:"bucket_size,omitempty"`
	MaxConcurrentRequests *int64                `yaml:"max_concurrent_requests,omitempty"`
	RetryParameters       *QueueRetryParameters `yaml:"retry_parameters,omitempty"`
	ACL                   []*QueueACL           `yaml:"acl,omitempty"`
	Target                string                `yaml:"target,omitempty"`
}

// QueueRetryParameters says how a failed task is retried.
type QueueRetryParameters struct {
	Meta              Meta     `yaml:"-"`
	TaskRetryLimit    *int64   `yaml:"task_retry_limit,omitempty"`
	TaskAgeLimit      string   `yaml:"task_age_limit,omitempty"`
	MinBackoffSeconds *float64 `yaml:"min_backoff_seconds,omitempty"`
	MaxBackoffSeconds *float64 `yaml:"max_backoff_seconds,omitempty"`
	MaxDoublings      *int64   `yaml:"max_doublings,omitempty"`
}

// QueueACL grants one account access to a pull queue.
type QueueACL struct {
	Meta        Meta   `yaml:"-"`
	UserEmail   string `yaml:"user_email,omitempty"`
	WriterEmail string `yaml:"writer_email,omitempty"`
}

func (*QueueInfo) SDKName() string            { return "QueueInfoExternal" }
func (*QueueEntry) SDKName() string           { return "QueueEntry" }
func (*QueueRetryParameters) SDKName() string { return "RetryParameters" }
func (*QueueACL) SDKName() string             { return "Acl" }

// ParseQueue reads queue.yaml. A file with no YAML document is refused, as
// the SDK refuses it ("Empty queue configuration."); the model is then nil.
// Problems are the file's YAML and type errors; rules on values are checked
// by the validate package.
func ParseQueue(path string, data []byte) (*QueueInfo, []Problem) {
	info := &QueueInfo{}
	c := parseCompanion(path, data, info, "queue")
	if c.root == nil {
		c.refuseEmpty("Empty queue configuration.", "add a 'queue:' list, or delete the file")
		return orNil(info, c.r), c.r.Problems
	}
	eachItem(c.root, "queue", info.Queue, func(n *yaml.Node, q *QueueEntry) {
		if rp := mapValue(n, "retry_parameters"); rp != nil && q.RetryParameters != nil {
			c.timeValueType(rp, "task_age_limit", &q.RetryParameters.Meta)
		}
	})
	return info, c.r.Problems
}
