package appengine

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/appcfg/appcfg/internal/appmodel"
	"github.com/appcfg/appcfg/internal/expiration"
	"github.com/appcfg/appcfg/internal/yaml11"
)

// This file turns the parsed app.yaml (the typed model a deploy carries)
// into the Admin API's Version resource the way gcloud does
// (googlecloudsdk/appengine/admin/tools/conversion/yaml_schema_v1.py with
// schema.py and converters.py, applied to AppInfoExternal.ToDict()): an
// allow-list of keys, each renamed to lowerCamelCase (some to other names),
// with value converters for enums, durations and strings; unknown keys are
// dropped silently, as gcloud drops them.

// rule says how one app.yaml key is converted.
type rule struct {
	to    string                   // output key in snake_case; "" keeps the key
	conv  func(v any) (any, error) // value converter; nil passes the value
	sub   schema                   // nested message
	list  bool                     // repeated field: conv/sub apply per element
	isMap bool                     // map whose keys and values become strings
	merge bool                     // the (map) value is merged into the output key
	post  func(map[string]any) (map[string]any, error)
	// dflt is the SDK's default for the key: appinfo's ToDict drops a
	// value equal to it (as written or as defaulted), so gcloud never
	// sends it. A list key with dflt "[]" drops an empty list.
	dflt string
}

type schema map[string]rule

func str(v any) (any, error) { return toJSONString(v), nil }

// regexStr is validation.RegexStr's value: a list of patterns is one
// pattern, joined with |.
func regexStr(v any) (any, error) {
	l, ok := v.([]any)
	if !ok {
		return toJSONString(v), nil
	}
	parts := make([]string, len(l))
	for i, p := range l {
		parts[i] = toJSONString(p)
	}
	return strings.Join(parts, "|"), nil
}

func enum(prefix string) func(any) (any, error) {
	return func(v any) (any, error) {
		return prefix + "_" + strings.ToUpper(toJSONString(v)), nil
	}
}

// Defaults of appinfo.HandlerBase, shared by handlers and api_config.
const (
	defaultLogin    = "optional"
	defaultAuthFail = "redirect"
	defaultSecure   = "default"
)

func handlerSchema() schema {
	return schema{
		"auth_fail_action":            {conv: enum("AUTH_FAIL_ACTION"), dflt: defaultAuthFail},
		"static_dir":                  {conv: str},
		"secure":                      {to: "security_level", conv: enum("SECURE")},
		"redirect_http_response_code": {conv: enum("REDIRECT_HTTP_RESPONSE_CODE")},
		"http_headers":                {isMap: true},
		"url":                         {to: "url_regex"},
		"expiration":                  {conv: expirationToDuration},
		"static_files":                {to: "path", conv: str},
		"script":                      {to: "script_path", conv: str},
		"upload":                      {to: "upload_path_regex", conv: str},
		"api_endpoint":                {},
		"application_readable":        {},
		"login":                       {conv: enum("LOGIN"), dflt: defaultLogin},
		"mime_type":                   {conv: str},
		"require_matching_file":       {},
	}
}

func healthSchema() schema {
	return schema{
		"check_interval_sec":   {to: "check_interval", conv: secondsToDuration},
		"timeout_sec":          {to: "timeout", conv: secondsToDuration},
		"healthy_threshold":    {},
		"disable_health_check": {to: "enable_health_check", conv: not},
		"unhealthy_threshold":  {},
		"host":                 {conv: str},
		"restart_threshold":    {},
	}
}

func probeSchema() schema {
	return schema{
		"check_interval_sec":    {to: "check_interval", conv: secondsToDuration},
		"timeout_sec":           {to: "timeout", conv: secondsToDuration},
		"initial_delay_sec":     {to: "initial_delay", conv: secondsToDuration},
		"app_start_timeout_sec": {to: "app_start_timeout", conv: secondsToDuration},
		"success_threshold":     {},
		"failure_threshold":     {},
		"path":                  {conv: str},
		"host":                  {conv: str},
	}
}

// versionSchema is built on first use: its few dozen maps were a fifth of
// what the package's init allocated at every start, for a deploy to App
// Engine only.
var versionSchema = sync.OnceValue(func() schema {
	return schema{
		"api_config": {sub: schema{
			"url":              {conv: str},
			"login":            {conv: enum("LOGIN"), dflt: defaultLogin},
			"secure":           {to: "security_level", conv: enum("SECURE"), dflt: defaultSecure},
			"auth_fail_action": {conv: enum("AUTH_FAIL_ACTION"), dflt: defaultAuthFail},
			"script":           {conv: str},
		}},
		"api_version":                 {to: "runtime_api_version", conv: str},
		"app_engine_apis":             {},
		"app_engine_bundled_services": {list: true, conv: enum("BUNDLED_SERVICE_TYPE")},
		"auto_id_policy": {to: "beta_settings", merge: true, conv: func(v any) (any, error) {
			return map[string]any{"auto_id_policy": toJSONString(v)}, nil
		}},
		"automatic_scaling": {post: convertAutomaticScaling, sub: schema{
			"cool_down_period_sec": {to: "cool_down_period", conv: secondsToDuration},
			"cpu_utilization": {sub: schema{
				"target_utilization":            {},
				"aggregation_window_length_sec": {to: "aggregation_window_length", conv: secondsToDuration},
			}},
			"max_num_instances":                       {to: "max_total_instances"},
			"min_num_instances":                       {to: "min_total_instances"},
			"max_total_instances":                     {},
			"min_total_instances":                     {},
			"min_pending_latency":                     {conv: latencyToDuration},
			"max_pending_latency":                     {conv: latencyToDuration},
			"min_idle_instances":                      {conv: stringToInt},
			"max_idle_instances":                      {conv: stringToInt},
			"max_concurrent_requests":                 {conv: stringToInt},
			"target_cpu_utilization":                  {},
			"target_throughput_utilization":           {},
			"max_instances":                           {},
			"min_instances":                           {},
			"target_network_sent_bytes_per_sec":       {to: "target_sent_bytes_per_second"},
			"target_network_sent_packets_per_sec":     {to: "target_sent_packets_per_second"},
			"target_network_received_bytes_per_sec":   {to: "target_received_bytes_per_second"},
			"target_network_received_packets_per_sec": {to: "target_received_packets_per_second"},
			"target_disk_write_bytes_per_sec":         {to: "target_write_bytes_per_second"},
			"target_disk_write_ops_per_sec":           {to: "target_write_ops_per_second"},
			"target_disk_read_bytes_per_sec":          {to: "target_read_bytes_per_second"},
			"target_disk_read_ops_per_sec":            {to: "target_read_ops_per_second"},
			"target_request_count_per_sec":            {to: "target_request_count_per_second"},
			"target_concurrent_requests":              {},
		}},
		"basic_scaling": {sub: schema{
			"idle_timeout":  {conv: idleTimeoutToDuration},
			"max_instances": {conv: stringToInt},
		}},
		"beta_settings":       {isMap: true},
		"build_env_variables": {isMap: true},
		"default_expiration":  {conv: expirationToDuration},
		"endpoints_api_service": {sub: schema{
			"name":                   {},
			"rollout_strategy":       {conv: enum("ROLLOUT_STRATEGY")},
			"config_id":              {},
			"trace_sampling":         {},
			"disable_trace_sampling": {to: "trace_sampling", conv: not},
		}},
		"entrypoint":    {conv: convertEntrypoint},
		"env":           {},
		"env_variables": {isMap: true},
		"error_handlers": {list: true, sub: schema{
			"error_code": {conv: enum("ERROR_CODE")},
			"file":       {to: "static_file", conv: str},
			"mime_type":  {conv: str},
		}},
		"handlers":         {list: true, sub: handlerSchema(), post: convertURLHandler, dflt: "[]"},
		"health_check":     {sub: healthSchema()},
		"liveness_check":   {sub: probeSchema()},
		"readiness_check":  {sub: probeSchema()},
		"inbound_services": {list: true, conv: enum("INBOUND_SERVICE")},
		"instance_class":   {conv: str},
		"libraries": {list: true, sub: schema{
			"version": {conv: str},
			"name":    {conv: str},
		}},
		"main":           {to: "runtime_main_executable_path", conv: str},
		"manual_scaling": {sub: schema{"instances": {conv: stringToInt}}},
		"network": {sub: schema{
			"instance_tag":     {conv: str},
			"name":             {conv: str},
			"subnetwork_name":  {conv: str},
			"session_affinity": {},
			"forwarded_ports":  {list: true, conv: str},
			"instance_ip_mode": {conv: enum("INSTANCE_IP_MODE")},
		}},
		"nobuild_files": {to: "nobuild_files_regex", conv: regexStr, dflt: "^$"},
		"resources": {sub: schema{
			"memory_gb":         {},
			"disk_size_gb":      {},
			"cpu":               {},
			"kms_key_reference": {conv: str},
			"volumes": {list: true, sub: schema{
				"name":        {conv: str},
				"volume_type": {conv: str},
				"size_gb":     {},
			}},
		}},
		"runtime":            {conv: str},
		"runtime_channel":    {conv: str},
		"runtime_config":     {to: "flexible_runtime_settings", sub: schema{"operating_system": {conv: str}, "runtime_version": {conv: str}}},
		"service_account":    {conv: str},
		"standard_websocket": {to: "enable_standard_websocket"},
		"threadsafe":         {},
		"version":            {to: "id", conv: str},
		"vm":                 {},
		"vm_settings":        {to: "beta_settings", isMap: true, merge: true},
		"vpc_access_connector": {sub: schema{
			"name": {conv: str},
			"egress_setting": {conv: func(v any) (any, error) {
				// all-traffic → ALL_TRAFFIC, the API's enum.
				return strings.ToUpper(strings.ReplaceAll(toJSONString(v), "-", "_")), nil
			}},
		}},
		"zones": {list: true, conv: str},
	}
})

// VersionResource converts a service's configuration to the Version
// resource gcloud would send, without id and deployment, which the caller
// adds (and the runtime, from the spec, when the configuration has none). The result marshals to the Admin API's JSON.
func VersionResource(app *appmodel.App) (map[string]any, error) {
	return versionResource(app.Dict()) // a nil app is an empty configuration
}

// versionResource converts the configuration's key/value form, as gcloud
// converts AppInfoExternal.ToDict().
func versionResource(m map[string]any) (map[string]any, error) {
	// gcloud forces an entrypoint key (empty when absent) before converting.
	if _, ok := m["entrypoint"]; !ok {
		m["entrypoint"] = ""
	}
	// appinfo's FixSecureDefaults turns each handler's secure default
	// (absent or written "default") into optional before ToDict.
	if hs, ok := m["handlers"].([]any); ok {
		for _, h := range hs {
			if hm, ok := h.(map[string]any); ok {
				if s, ok := hm["secure"]; !ok || s == defaultSecure {
					hm["secure"] = "optional"
				}
			}
		}
	}
	return convertMessage(versionSchema(), m, "")
}

func convertMessage(s schema, in map[string]any, where string) (map[string]any, error) {
	out := map[string]any{}
	// Keys that merge into another's map (vm_settings, auto_id_policy into
	// beta_settings) are applied after the others and never replace what
	// the target key itself gives, in key order: the result must not
	// depend on map iteration order.
	type merge struct {
		key string
		src map[string]any
	}
	var merges []merge
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := in[k]
		r, ok := s[k]
		if !ok || v == nil || isDefault(r, v) {
			continue
		}
		path := k
		if where != "" {
			path = where + "." + k
		}
		cv, err := convertValue(r, v, path)
		if err != nil {
			return nil, err
		}
		if cv == nil {
			continue
		}
		key := k
		if r.to != "" {
			key = r.to
		}
		key = lowerCamel(key)
		if r.merge {
			src, _ := cv.(map[string]any)
			merges = append(merges, merge{key, src})
			continue
		}
		out[key] = cv
	}
	for _, m := range merges {
		dst, _ := out[m.key].(map[string]any)
		if dst == nil {
			dst = map[string]any{}
			out[m.key] = dst
		}
		for mk, mv := range m.src {
			if _, set := dst[mk]; !set {
				dst[mk] = mv
			}
		}
	}
	return out, nil
}

// isDefault reports whether v equals the key's SDK default, which ToDict
// leaves out.
func isDefault(r rule, v any) bool {
	if r.dflt == "" {
		return false
	}
	if l, ok := v.([]any); ok {
		if r.dflt == "[]" {
			return len(l) == 0
		}
		// A RegexStr (nobuild_files) is a list in the model and one
		// pattern, joined with |, to the SDK: `nobuild_files: ^$` is the
		// default.
		j, _ := regexStr(l)
		return j == r.dflt
	}
	return toJSONString(v) == r.dflt
}

func convertValue(r rule, v any, path string) (any, error) {
	if r.list {
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("app.yaml %s: want a list", path)
		}
		out := make([]any, 0, len(items))
		for i, it := range items {
			one := r
			one.list = false
			cv, err := convertValue(one, it, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if cv != nil {
				out = append(out, cv)
			}
		}
		return out, nil
	}
	switch {
	case r.isMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("app.yaml %s: want a mapping", path)
		}
		out := map[string]any{}
		for mk, mv := range m {
			out[mk] = toJSONString(mv)
		}
		return out, nil
	case r.sub != nil:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("app.yaml %s: want a mapping", path)
		}
		out, err := convertMessage(r.sub, m, path)
		if err != nil {
			return nil, err
		}
		if r.post != nil {
			return r.post(out)
		}
		return out, nil
	case r.conv != nil:
		cv, err := r.conv(v)
		if err != nil {
			return nil, fmt.Errorf("app.yaml %s: %w", path, err)
		}
		return cv, nil
	}
	return v, nil
}

// toJSONString is converters.ToJsonString: booleans lowercase, numbers as
// Python prints them.
func toJSONString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return yaml11.PyFloat(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func lowerCamel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func not(v any) (any, error) {
	b, ok := v.(bool)
	if !ok {
		return nil, fmt.Errorf("want true or false, got %v", v)
	}
	return !b, nil
}

func secondsToDuration(v any) (any, error) { return toJSONString(v) + "s", nil }

// latencyToDuration: "30ms" → "0.03s", "automatic" dropped, others kept.
func latencyToDuration(v any) (any, error) {
	s := toJSONString(v)
	if s == "automatic" {
		return nil, nil
	}
	if ms, ok := strings.CutSuffix(s, "ms"); ok {
		f, err := strconv.ParseFloat(ms, 64)
		if err != nil {
			return nil, fmt.Errorf("bad latency %q", s)
		}
		return yaml11.PyFloat(f/1000) + "s", nil
	}
	return s, nil
}

// idleTimeoutToDuration: "10m" → "600s", others kept.
func idleTimeoutToDuration(v any) (any, error) {
	s := toJSONString(v)
	if m, ok := strings.CutSuffix(s, "m"); ok {
		n, err := strconv.Atoi(m)
		if err != nil {
			return nil, fmt.Errorf("bad idle_timeout %q", s)
		}
		return strconv.Itoa(n*60) + "s", nil
	}
	return s, nil
}

// stringToInt: "automatic" → 0, numbers as JSON numbers.
func stringToInt(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case string:
		if x == "automatic" {
			return int64(0), nil
		}
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("want an integer or automatic, got %q", x)
		}
		return n, nil
	}
	return nil, fmt.Errorf("want an integer, got %v", v)
}

// expirationToDuration is appinfo.ParseExpiration: "1d 2h" → "93600s".
func expirationToDuration(v any) (any, error) {
	s := toJSONString(v)
	secs, err := expiration.Seconds(s)
	if err != nil {
		return nil, fmt.Errorf("bad expiration: %w", err)
	}
	return strconv.FormatInt(secs, 10) + "s", nil
}

func convertEntrypoint(v any) (any, error) {
	s := toJSONString(v)
	s = strings.TrimPrefix(s, "exec ")
	return map[string]any{"shell": s}, nil
}

// Fields of a converted handler kept beside urlRegex; the rest go in the
// handler-type sub-object.
var commonHandlerFields = []string{"authFailAction", "login", "redirectHttpResponseCode", "securityLevel"}

// convertURLHandler is converters.ConvertUrlHandler: it rewrites static_dir
// as static files and regroups the fields by handler type.
func convertURLHandler(h map[string]any) (map[string]any, error) {
	if dir, ok := h["staticDir"].(string); ok {
		url, _ := h["urlRegex"].(string)
		url = strings.TrimRight(url, "/")
		if re, err := regexp.Compile(url); err == nil && re.NumSubexp() > 0 {
			return nil, fmt.Errorf("app.yaml handler %s: a static_dir url must not contain regex groups", url)
		}
		dir = strings.TrimRight(dir, "/")
		h["urlRegex"] = url + "/(.*)"
		h["path"] = dir + `/\1`
		h["uploadPathRegex"] = dir + "/.*"
		delete(h, "staticDir")
	}
	out := map[string]any{"urlRegex": h["urlRegex"]}
	delete(h, "urlRegex")
	for _, f := range commonHandlerFields {
		if v, ok := h[f]; ok {
			out[f] = v
			delete(h, f)
		}
	}
	switch {
	case h["path"] != nil:
		out["staticFiles"] = h
	case h["scriptPath"] != nil:
		out["script"] = h
	case h["apiEndpoint"] != nil:
		out["apiEndpoint"] = map[string]any{"scriptPath": toJSONString(h["apiEndpoint"])}
	default:
		return nil, fmt.Errorf("app.yaml handler %v: it has none of script, static_files, static_dir or api_endpoint", out["urlRegex"])
	}
	return out, nil
}

// Groups of automatic_scaling fields the API nests.
var scalingGroups = []struct {
	name   string
	fields []string
}{
	{"standardSchedulerSettings", []string{"maxInstances", "minInstances", "targetCpuUtilization", "targetThroughputUtilization"}},
	{"requestUtilization", []string{"targetRequestCountPerSecond", "targetConcurrentRequests"}},
	{"diskUtilization", []string{"targetWriteBytesPerSecond", "targetWriteOpsPerSecond", "targetReadBytesPerSecond", "targetReadOpsPerSecond"}},
	{"networkUtilization", []string{"targetSentBytesPerSecond", "targetSentPacketsPerSecond", "targetReceivedBytesPerSecond", "targetReceivedPacketsPerSecond"}},
}

// convertAutomaticScaling is converters.ConvertAutomaticScaling.
func convertAutomaticScaling(m map[string]any) (map[string]any, error) {
	for _, g := range scalingGroups {
		sub := map[string]any{}
		for _, f := range g.fields {
			if v, ok := m[f]; ok {
				sub[f] = v
				delete(m, f)
			}
		}
		if len(sub) > 0 {
			m[g.name] = sub
		}
	}
	return m, nil
}
