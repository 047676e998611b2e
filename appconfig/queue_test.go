package appconfig

import "testing"

func TestParseQueue(t *testing.T) {
	info, probs := ParseQueue("queue.yaml", []byte(`total_storage_limit: 1.2G
queue:
- name: default
  rate: 0
  bucket_size: '10'
  max_concurrent_requests: 4
  retry_parameters:
    task_retry_limit: 3
    task_age_limit: 1h
    max_backoff_seconds: 200
- name: pull
  mode: pull
  acl:
  - user_email: a@example.com
  - writer_email: b@example.com
`))
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	q := info.Queue[0]
	if info.TotalStorageLimit != "1.2G" || q.Rate != "0" || *q.BucketSize != 10 || *q.MaxConcurrentRequests != 4 {
		t.Errorf("queue = %+v", q)
	}
	if rp := q.RetryParameters; *rp.TaskRetryLimit != 3 || rp.TaskAgeLimit != "1h" || *rp.MaxBackoffSeconds != 200 {
		t.Errorf("retry = %+v", rp)
	}
	if p := info.Queue[1]; p.Mode != "pull" || p.ACL[0].UserEmail != "a@example.com" || p.ACL[1].WriterEmail != "b@example.com" {
		t.Errorf("pull queue = %+v", p)
	}
}

func TestParseQueueEmpty(t *testing.T) {
	info, probs := ParseQueue("queue.yaml", []byte("\n"))
	if info != nil || len(probs) != 1 || probs[0].Message != "Empty queue configuration." {
		t.Errorf("empty queue.yaml: %+v %v", info, probs)
	}
	_, probs = ParseQueue("queue.yaml", []byte("queue:\n- name: q\n  retry_parameters:\n    task_age_limit: 2\n"))
	if len(probs) != 1 || probs[0].Line != 4 || probs[0].Field != "queue[0].retry_parameters.task_age_limit" {
		t.Errorf("numeric task_age_limit: %v", probs)
	}
}
