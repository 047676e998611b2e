package appconfig

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/appcfg/appcfg/internal/expiration"
	"github.com/appcfg/appcfg/internal/runtimes"
	"github.com/appcfg/appcfg/internal/yaml11"
)

// options is a validation.Options: allowed values, each with aliases.
type options struct {
	canon map[string]string
	shown string // the allowed values, for messages (ShowOptions)
}

func newOptions(groups ...[]string) options {
	o := options{canon: map[string]string{}}
	for _, g := range groups {
		for _, alias := range g {
			o.canon[alias] = g[0]
		}
	}
	o.shown = ShowOptions(groups...)
	return o
}

// ShowOptions lists allowed values for a message, each with its aliases:
// "on (yes, y, true), off (no, n, false)". The SDK printed Python's repr
// of its dict of aliases ({'on': 'on', 'yes': 'on', …}), which reads as
// code, not as the choices.
func ShowOptions(groups ...[]string) string {
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = g[0]
		if len(g) > 1 {
			parts[i] += " (" + strings.Join(g[1:], ", ") + ")"
		}
	}
	return strings.Join(parts, ", ")
}

func opts(values ...string) options {
	groups := make([][]string, len(values))
	for i, v := range values {
		groups[i] = []string{v}
	}
	return newOptions(groups...)
}

var (
	optLogin    = opts("optional", "required", "admin")
	optAuthFail = opts("redirect", "unauthorized")
	optSecure   = opts("never", "always", "optional", "default")
	optPosition = opts("head", "tail")
	optOnOff    = newOptions(
		[]string{"on", "yes", "y", "True", "t", "1", "true"},
		[]string{"off", "no", "n", "False", "f", "0", "false"})
	optRedirectCode = opts("301", "302", "303", "307")
	optAutoID       = opts("legacy", "default")
	optDerived      = opts("java_precompiled", "python_precompiled")
	optRollout      = opts("fixed", "managed")
	optEgress       = opts("all-traffic", "private-ranges-only")
)

// checker applies the SDK's per-attribute validators to decoded values.
type checker struct {
	r *yaml11.Report
}

// given reports whether key is present with a non-null value, which is when
// the SDK runs the attribute's validator.
func given(m *Meta, key string) bool { return m.Has(key) && !m.IsNull(key) }

func (c checker) regex(m *Meta, key, value string, re *pyRegex) bool {
	if !given(m, key) {
		return true
	}
	if re.Match(value) {
		return true
	}
	c.r.Errorf(m.At(key), m.Field(key), "Value '%s' for %s does not match expression '%s'", value, key, re.shown()).
		Hint = regexHint(key)
	return false
}

// expiration checks an expiration's syntax, as the SDK does, and warns
// about one longer than a year: the SDK accepts it, but no cache keeps a
// response longer, and serve sends one year.
func (c checker) expiration(m *Meta, key, value string) {
	if !c.regex(m, key, value, reExpiration) || !given(m, key) {
		return
	}
	if secs, err := expiration.Seconds(value); err == nil && secs > int64(expiration.MaxHTTP/time.Second) {
		c.r.Warnf(m.At(key), m.Field(key), "%s %q is longer than one year; HTTP caches keep a response at most a year, so it is served as 365d", key, value).
			Hint = "write at most 365d"
	}
}

func regexHint(key string) string {
	switch key {
	case "application", "project":
		return "use your Google Cloud project id: lowercase letters, digits and hyphens, or remove the line and pass -A"
	case "service", "module", "version":
		return "use lowercase letters, digits and hyphens (at most 63), not starting or ending with a hyphen"
	case "expiration", "default_expiration":
		return `write space-separated amounts with a unit d, h, m or s, e.g. "1d 6h"`
	case "url":
		return "a handler url starts with '/', e.g. /static/.*"
	}
	return "give a value that matches the expression"
}

func (c checker) required(m *Meta, key string) bool {
	if given(m, key) {
		return true
	}
	pos := m.Pos
	if m.Has(key) {
		pos = m.At(key)
	}
	c.r.Errorf(pos, m.Field(key), "Missing required value [%s].", key).Hint = "add " + key + ": to this mapping"
	return false
}

// option checks value against o and returns its canonical form.
func (c checker) option(m *Meta, key, value string, o options) string {
	if !given(m, key) {
		return value
	}
	if v, ok := o.canon[value]; ok {
		return v
	}
	keys := make([]string, 0, len(o.canon))
	for k, v := range o.canon {
		if k == v {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	c.r.Errorf(m.At(key), m.Field(key), "Value '%s' for %s not in %s.", value, key, o.shown).
		Hint = "use one of " + strings.Join(keys, ", ")
	return value
}

func (c checker) rangeInt(m *Meta, key string, v *int64, min int64) {
	if v != nil && *v < min {
		c.r.Errorf(m.At(key), m.Field(key), "Value '%d' for %s less than %d", *v, key, min).
			Hint = fmt.Sprintf("give a whole number of at least %d", min)
	}
}

// intField is an integer attribute and its decoded value.
type intField struct {
	key string
	v   *int64
}

// nonNegative is validation.Range(0, sys.maxsize) on each field.
func (c checker) nonNegative(m *Meta, fields ...intField) {
	for _, f := range fields {
		c.rangeInt(m, f.key, f.v, 0)
	}
}

func (c checker) strMap(m *Meta, key string, vals map[string]string, class string) {
	for _, k := range sortedKeys(vals) {
		if !reEnvKey.Match(k) {
			c.r.Errorf(m.At(key), yaml11.JoinPath(m.Field(key), k),
				"Value '%s' for key in %s does not match expression '%s'", k, class, reEnvKey.shown()).
				Hint = "names are letters, digits and underscores, not starting with a digit"
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dropNil removes null items from a list of mappings, reporting each as
// the SDK's Repeated validator does.
func dropNil[T any](c checker, m *Meta, key, class string, items []*T) []*T {
	out := items[:0:0]
	for i, it := range items {
		if it == nil {
			c.r.Errorf(m.At(key), fmt.Sprintf("%s[%d]", m.Field(key), i), "Value element 'None' for %s must be type %s.", key, class).
				Hint = "remove the empty '-' item"
			continue
		}
		// An item that was not a mapping has no position: the decoder
		// reported it, and its empty model must not be checked further.
		if meta, ok := reflect.ValueOf(it).Elem().FieldByName("Meta").Interface().(Meta); ok && meta.Pos.Line == 0 {
			continue
		}
		out = append(out, it)
	}
	if items == nil {
		return nil
	}
	return out
}

func (c checker) dropNilBuiltins(m *Meta, items []map[string]string) []map[string]string {
	var out []map[string]string
	for i, it := range items {
		if it == nil {
			c.r.Errorf(m.At("builtins"), fmt.Sprintf("builtins[%d]", i), "Value element 'None' for builtins must be type BuiltinHandler.").
				Hint = "remove the empty '-' item"
			continue
		}
		out = append(out, it)
	}
	return out
}

func (c checker) app(a *App) {
	m := &a.Meta
	a.Handlers = dropNil(c, m, "handlers", "URLMap", a.Handlers)
	a.Libraries = dropNil(c, m, "libraries", "Library", a.Libraries)
	a.ErrorHandlers = dropNil(c, m, "error_handlers", "ErrorHandlers", a.ErrorHandlers)
	a.Backends = dropNil(c, m, "backends", "BackendEntry", a.Backends)
	a.BuiltIns = c.dropNilBuiltins(m, a.BuiltIns)
	if s := a.AutomaticScaling; s != nil {
		s.CustomMetrics = dropNil(c, &s.Meta, "custom_metrics", "CustomMetric", s.CustomMetrics)
	}
	if r := a.Resources; r != nil {
		r.Volumes = dropNil(c, &r.Meta, "volumes", "Volume", r.Volumes)
	}
	c.regex(m, "application", a.Application, reApplication)
	c.regex(m, "project", a.Project, reApplication)
	c.regex(m, "service", a.Service, reModuleID)
	c.regex(m, "module", a.Module, reModuleID)
	c.regex(m, "version", a.Version, reVersionID)
	c.regex(m, "runtime", a.Runtime, reRuntime)
	c.regex(m, "api_version", a.API, reAPIVersion)
	c.regex(m, "main", a.Main, reFiles)
	c.regex(m, "env", a.Env, reEnv)
	c.regex(m, "source_language", a.SourceLanguage, reSourceLang)
	c.expiration(m, "default_expiration", a.DefaultExpiration)
	if !given(m, "entrypoint") && !a.IsVM() && runtimes.NeedsEntrypoint(a.Runtime) {
		// The SDK's parser accepts it; App Engine then has nothing to run,
		// so this is a warning here (--strict: an error) and serve's error.
		c.r.Warnf(m.At("runtime"), "entrypoint", "runtime %s has no default command: App Engine's Ruby runtimes require an entrypoint, and this app.yaml has none", a.Runtime).
			Hint = "add an entrypoint; " + runtimes.EntrypointHint
	}
	if given(m, "entrypoint") && !strings.HasPrefix(a.Entrypoint, "[") && !strings.HasPrefix(a.Entrypoint, "exec") {
		a.Entrypoint = "exec " + a.Entrypoint
	}
	a.AutoIDPolicy = c.option(m, "auto_id_policy", a.AutoIDPolicy, optAutoID)
	for i, s := range a.InboundServices {
		if !reService.Match(s) {
			c.r.Errorf(m.At("inbound_services"), fmt.Sprintf("inbound_services[%d]", i),
				"Value '%s' for inbound_services does not match expression '%s'", s, reService.shown()).
				Hint = "use one of mail, mail_bounce, xmpp_message, xmpp_subscribe, xmpp_presence, xmpp_error, channel_presence, rest, warmup"
		}
	}
	for i, d := range a.DerivedFileType {
		if _, ok := optDerived.canon[d]; !ok {
			c.r.Errorf(m.At("derived_file_type"), fmt.Sprintf("derived_file_type[%d]", i),
				"Value '%s' for derived_file_type not in %s.", d, optDerived.shown).
				Hint = "use java_precompiled or python_precompiled, or leave derived_file_type to the tools"
		}
	}
	c.strMap(m, "runtime_config", a.RuntimeConfig, "RuntimeConfig")
	c.sharedFields(m, appShared(a))
	if e := a.EndpointsAPIService; e != nil {
		c.endpoints(e)
	}
	if s := a.AutomaticScaling; s != nil {
		c.automaticScaling(s)
	}
	if s := a.BasicScaling; s != nil {
		c.required(&s.Meta, "max_instances")
		c.regex(&s.Meta, "max_instances", s.MaxInstances, reInstances)
		c.regex(&s.Meta, "idle_timeout", s.IdleTimeout, reIdleTimeout)
	}
	for _, h := range []*HealthCheck{a.VMHealthCheck, a.HealthCheck} {
		if h != nil {
			c.nonNegative(&h.Meta, intField{"check_interval_sec", h.CheckIntervalSec}, intField{"timeout_sec", h.TimeoutSec},
				intField{"unhealthy_threshold", h.UnhealthyThreshold}, intField{"healthy_threshold", h.HealthyThreshold},
				intField{"restart_threshold", h.RestartThreshold})
		}
	}
	if l := a.LivenessCheck; l != nil {
		c.nonNegative(&l.Meta, intField{"check_interval_sec", l.CheckIntervalSec}, intField{"timeout_sec", l.TimeoutSec},
			intField{"failure_threshold", l.FailureThreshold}, intField{"success_threshold", l.SuccessThreshold},
			intField{"initial_delay_sec", l.InitialDelaySec})
	}
	if l := a.ReadinessCheck; l != nil {
		c.nonNegative(&l.Meta, intField{"check_interval_sec", l.CheckIntervalSec}, intField{"timeout_sec", l.TimeoutSec},
			intField{"app_start_timeout_sec", l.AppStartTimeoutSec}, intField{"failure_threshold", l.FailureThreshold},
			intField{"success_threshold", l.SuccessThreshold})
	}
	if res := a.Resources; res != nil {
		for _, v := range res.Volumes {
			c.required(&v.Meta, "name")
			c.required(&v.Meta, "size_gb")
			c.required(&v.Meta, "volume_type")
		}
	}
	if n := a.Network; n != nil {
		for i, p := range n.ForwardedPorts {
			if !rePorts.Match(p) {
				c.r.Errorf(n.Meta.At("forwarded_ports"), fmt.Sprintf("network.forwarded_ports[%d]", i),
					"Value '%s' for forwarded_ports does not match expression '%s'", p, rePorts.shown()).
					Hint = "write PORT, HOST:CONTAINER or either with /tcp or /udp"
			}
		}
		c.regex(&n.Meta, "instance_tag", n.InstanceTag, reGCEName)
		c.regex(&n.Meta, "name", n.Name, reGCEPath)
		c.regex(&n.Meta, "subnetwork_name", n.SubnetworkName, reGCEName)
		c.regex(&n.Meta, "instance_ip_mode", n.InstanceIPMode, reIPMode)
	}
	if v := a.VPCAccessConnector; v != nil {
		if c.required(&v.Meta, "name") {
			c.regex(&v.Meta, "name", v.Name, reVPCName)
		}
		v.EgressSetting = c.option(&v.Meta, "egress_setting", v.EgressSetting, optEgress)
	}
	if f := a.FlexibleRuntimeSettings; f != nil {
		if c.required(&f.Meta, "operating_system") {
			c.regex(&f.Meta, "operating_system", f.OperatingSystem, reOS)
		}
	}
	for _, e := range a.ErrorHandlers {
		if c.required(&e.Meta, "file") {
			c.regex(&e.Meta, "file", e.File, reFiles)
		}
		c.regex(&e.Meta, "error_code", e.ErrorCode, reErrorCode)
	}
	for _, b := range a.Backends {
		c.backend(b)
	}
	if ac := a.APIConfig; ac != nil {
		if c.required(&ac.Meta, "url") {
			c.regex(&ac.Meta, "url", ac.URL, reURL)
		}
		if c.required(&ac.Meta, "script") {
			c.regex(&ac.Meta, "script", ac.Script, reFiles)
		}
		c.handlerCommon(&ac.Meta, &ac.Login, &ac.AuthFailAction, &ac.Secure)
	}
	for _, l := range a.Libraries {
		c.library(l)
	}
	a.BuiltIns = c.builtins(m, a.BuiltIns)
	if a.Runtime == "python" {
		for _, b := range a.BuiltIns {
			if _, ok := b["datastore_admin"]; ok {
				c.r.Warnf(m.At("builtins"), "builtins", "The datastore_admin builtin is deprecated.").
					Hint = "see http://developers.google.com/appengine/docs/adminconsole/datastoreadmin.html"
			}
			if _, ok := b["mapreduce"]; ok {
				c.r.Warnf(m.At("builtins"), "builtins", "The mapreduce builtin is deprecated.").
					Hint = "see http://developers.google.com/appengine/docs/python/dataprocessing/overview.html"
			}
		}
	}
	for _, h := range a.Handlers {
		c.handler(h)
	}
	c.appInitialized(a)
	c.appLoaded(a)
}

func (c checker) endpoints(e *EndpointsAPIService) {
	m := &e.Meta
	if c.required(m, "name") {
		c.regex(m, "name", e.Name, reNonWhite)
	}
	e.RolloutStrategy = c.option(m, "rollout_strategy", e.RolloutStrategy, optRollout)
	c.regex(m, "config_id", e.ConfigID, reNonWhite)
	switch {
	case e.RolloutStrategy != "managed" && !given(m, "config_id"):
		c.r.Errorf(m.Pos, m.Path, `config_id must be specified when rollout_strategy is unspecified or set to "fixed"`).
			Hint = "add config_id:, or set rollout_strategy: managed"
	case e.RolloutStrategy == "managed" && given(m, "config_id"):
		c.r.Errorf(m.At("config_id"), m.Field("config_id"), `config_id is forbidden when rollout_strategy is set to "managed"`).
			Hint = "remove config_id:"
	}
}

func (c checker) automaticScaling(s *AutomaticScaling) {
	m := &s.Meta
	c.regex(m, "min_idle_instances", s.MinIdleInstances, reIdle)
	c.regex(m, "max_idle_instances", s.MaxIdleInstances, reIdle)
	c.regex(m, "min_pending_latency", s.MinPendingLatency, reLatency)
	c.regex(m, "max_pending_latency", s.MaxPendingLatency, reLatency)
	c.regex(m, "max_concurrent_requests", s.MaxConcurrentRequests, reConcurrent)
	c.rangeInt(m, "min_num_instances", s.MinNumInstances, 1)
	c.rangeInt(m, "max_num_instances", s.MaxNumInstances, 1)
	c.rangeInt(m, "cool_down_period_sec", s.CoolDownPeriodSec, 60)
	for _, f := range []intField{
		{"target_network_sent_bytes_per_sec", s.TargetNetworkSentBytesPerSec},
		{"target_network_sent_packets_per_sec", s.TargetNetworkSentPacketsPerSec},
		{"target_network_received_bytes_per_sec", s.TargetNetworkReceivedBytesPerSec},
		{"target_network_received_packets_per_sec", s.TargetNetworkReceivedPacketsPerSec},
		{"target_disk_write_bytes_per_sec", s.TargetDiskWriteBytesPerSec},
		{"target_disk_write_ops_per_sec", s.TargetDiskWriteOpsPerSec},
		{"target_disk_read_bytes_per_sec", s.TargetDiskReadBytesPerSec},
		{"target_disk_read_ops_per_sec", s.TargetDiskReadOpsPerSec},
		{"target_request_count_per_sec", s.TargetRequestCountPerSec},
		{"target_concurrent_requests", s.TargetConcurrentRequests},
	} {
		c.rangeInt(m, f.key, f.v, 1)
	}
	if u := s.CPUUtilization; u != nil {
		if t := u.TargetUtilization; t != nil && (*t < 1e-6 || *t > 1.0) {
			c.r.Errorf(u.Meta.At("target_utilization"), u.Meta.Field("target_utilization"),
				"Value '%s' for target_utilization is out of range 1e-06 - 1.0", yaml11.PyFloat(*t)).
				Hint = "give a fraction between 0 and 1, e.g. 0.6"
		}
		c.rangeInt(&u.Meta, "aggregation_window_length_sec", u.AggregationWindowLengthSec, 1)
	}
	for _, cm := range s.CustomMetrics {
		mm := &cm.Meta
		if c.required(mm, "metric_name") {
			c.regex(mm, "metric_name", cm.MetricName, reNonWhite)
		}
		if c.required(mm, "target_type") {
			c.regex(mm, "target_type", cm.TargetType, reTargetType)
		}
		tu := cm.TargetUtilization != nil && *cm.TargetUtilization != 0
		sia := cm.SingleInstanceAssignment != nil && *cm.SingleInstanceAssignment != 0
		switch {
		case tu && sia:
			c.r.Errorf(mm.Pos, mm.Path, "There may be only one of 'target_utilization' or 'single_instance_assignment'.").
				Hint = "keep one of the two"
		case !tu && !sia:
			c.r.Errorf(mm.Pos, mm.Path, "There must be one of 'target_utilization' or 'single_instance_assignment'.").
				Hint = "add target_utilization: or single_instance_assignment: with a non-zero value"
		}
	}
}

// sharedFields checks the attributes app.yaml and include files share.
func (c checker) sharedFields(m *Meta, f shared) {
	c.strMap(m, "vm_settings", *f.vmSettings, "VmSettings")
	c.strMap(m, "beta_settings", *f.betaSettings, "BetaSettings")
	c.strMap(m, "env_variables", *f.envVars, "EnvironmentVariables")
	c.strMap(m, "build_env_variables", *f.buildEnvVars, "EnvironmentVariables")
	if s := *f.manualScaling; s != nil {
		c.manualScaling(s)
	}
	if ac := *f.adminConsole; ac != nil {
		c.adminConsole(ac)
	}
}

func (c checker) manualScaling(s *ManualScaling) {
	if c.required(&s.Meta, "instances") {
		c.regex(&s.Meta, "instances", s.Instances, reInstances)
	}
}

func (c checker) adminConsole(ac *AdminConsole) {
	ac.Pages = dropNil(c, &ac.Meta, "pages", "AdminConsolePage", ac.Pages)
	for _, p := range ac.Pages {
		if c.required(&p.Meta, "url") {
			c.regex(&p.Meta, "url", p.URL, reURL)
		}
		if c.required(&p.Meta, "name") {
			c.regex(&p.Meta, "name", p.Name, rePageName)
		}
	}
}

func (c checker) backend(b *BackendEntry) {
	m := &b.Meta
	if c.required(m, "name") {
		c.regex(m, "name", b.Name, reBackendName)
	}
	c.regex(m, "class", b.Class, reBackendClass)
	c.regex(m, "options", b.Options, reBackendOptions)
	c.regex(m, "start", b.Start, reBackendFile)
	c.regex(m, "state", b.State, reBackendState)
}

func (c checker) library(l *Library) {
	m := &l.Meta
	okName := c.required(m, "name")
	okVersion := c.required(m, "version")
	if !okName || !okVersion {
		return
	}
	lib, ok := LookupLibrary(l.Name)
	if !ok {
		c.r.Errorf(m.At("name"), m.Field("name"), `the library "%s" is not supported`, l.Name).
			Hint = "use one of " + strings.Join(LibraryNames(), ", ")
		return
	}
	switch {
	case l.Version == "latest":
		l.Version = lib.Latest
	case !contains(lib.Versions, l.Version):
		c.r.Errorf(m.At("version"), m.Field("version"), `%s version "%s" is not supported, use one of: "%s"`,
			l.Name, l.Version, strings.Join(lib.NonDeprecated(), `", "`)).
			Hint = `quote the version ("1.10", not 1.10) or use "latest"`
	case contains(lib.Deprecated, l.Version):
		c.r.Warnf(m.At("version"), m.Field("version"), `%s version "%s" is deprecated, use one of: "%s"`,
			l.Name, l.Version, strings.Join(lib.NonDeprecated(), `", "`))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// builtins validates `builtins:` items: each one key whose value is on or
// off (with the SDK's aliases), no name twice. Values are normalised.
func (c checker) builtins(m *Meta, items []map[string]string) []map[string]string {
	if !given(m, "builtins") {
		return items
	}
	seen := map[string]bool{}
	pos := m.At("builtins")
	for i, item := range items {
		field := fmt.Sprintf("builtins[%d]", i)
		if len(item) > 1 {
			c.r.Errorf(pos, field, `More than one builtin defined in list element.  Each new builtin should be prefixed by "-".`).
				Hint = "write each builtin as its own '- name: on' item"
			continue
		}
		if len(item) == 0 {
			c.r.Errorf(pos, field, "Name of builtin for list object %s could not be determined.", field).
				Hint = "write the builtin as '- name: on'"
			continue
		}
		for name, v := range item {
			if v != "" {
				canon, ok := optOnOff.canon[v]
				if !ok {
					c.r.Errorf(pos, field+"."+name, "Value '%s' for %s not in %s.", v, name, optOnOff.shown).
						Hint = "use on or off"
				} else {
					item[name] = canon
				}
			}
			if seen[name] {
				c.r.Errorf(pos, field, "Builtin %s was specified more than once in one yaml file.", name).
					Hint = "remove the repeated builtin"
			}
			seen[name] = true
		}
	}
	return items
}

func (c checker) handlerCommon(m *Meta, login, authFail, secure *string) {
	// These three have defaults but are not Optional: an explicit null
	// replaces the default and then counts as missing.
	for _, k := range []string{"login", "auth_fail_action", "secure"} {
		if m.IsNull(k) {
			c.required(m, k)
		}
	}
	*login = c.option(m, "login", *login, optLogin)
	*authFail = c.option(m, "auth_fail_action", *authFail, optAuthFail)
	*secure = c.option(m, "secure", *secure, optSecure)
	if !given(m, "login") {
		*login = "optional"
	}
	if !given(m, "auth_fail_action") {
		*authFail = "redirect"
	}
	if !given(m, "secure") {
		*secure = "default"
	}
}

// urlMapFields are URLMap's attributes, in the order GetHandlerType reports
// an unexpected one (the SDK iterates a dict; any order names a real culprit).
var urlMapFields = []string{"static_files", "upload", "application_readable", "static_dir", "mime_type",
	"expiration", "require_matching_file", "http_headers", "position", "api_endpoint",
	"redirect_http_response_code", "url", "login", "auth_fail_action", "secure", "script"}

var handlerAllowed = map[string][]string{
	HandlerStaticFiles: {"mime_type", "upload", "expiration", "require_matching_file", "http_headers", "application_readable"},
	HandlerStaticDir:   {"mime_type", "expiration", "require_matching_file", "http_headers", "application_readable"},
	// ALLOWED_FIELDS[script] is the string "position" (a missing comma in the
	// SDK), so `in` tests substrings: any attribute named inside "position".
	HandlerScript:      {"position"},
	HandlerAPIEndpoint: {"position", "script"},
}

func (c checker) handler(h *URLMap) {
	m := &h.Meta
	h.Position = m.Pos
	h.File = c.r.File
	c.regex(m, "url", h.URL, reURL)
	for _, k := range []string{"static_files", "upload", "static_dir", "script"} {
		var v string
		switch k {
		case "static_files":
			v = h.StaticFiles
		case "upload":
			v = h.Upload
		case "static_dir":
			v = h.StaticDir
		case "script":
			v = h.Script
		}
		c.regex(m, k, v, reFiles)
	}
	c.expiration(m, "expiration", h.Expiration)
	h.HandlerPosition = c.option(m, "position", h.HandlerPosition, optPosition)
	h.APIEndpoint = c.option(m, "api_endpoint", h.APIEndpoint, optOnOff)
	h.RedirectHTTPResponseCode = c.option(m, "redirect_http_response_code", h.RedirectHTTPResponseCode, optRedirectCode)
	c.handlerCommon(m, &h.Login, &h.AuthFailAction, &h.Secure)
	c.httpHeaders(h)

	// URLMap.CheckInitialized: the handler's type decides its fields.
	typ := h.HandlerType()
	if typ == "" {
		c.r.Errorf(m.Pos, m.Path, "Unknown url handler type.").
			Hint = "give the handler one of script:, static_files:, static_dir: or api_endpoint:"
		return
	}
	for _, attr := range urlMapFields {
		if !given(m, attr) || attr == typ || isCommonHandlerField(attr) || handlerAllows(typ, attr) {
			continue
		}
		c.r.Errorf(m.KeyAt(attr), m.Field(attr), `Unexpected attribute "%s" for mapping type %s.`, attr, typ).
			Hint = "remove it; it does not apply to a " + typ + " handler"
	}
	if typ == HandlerStaticFiles && h.Upload == "" {
		c.r.Errorf(m.KeyAt("static_files"), m.Field("upload"), `Missing "upload" attribute for URL "%s".`, pyNone(m, "url", h.URL)).
			Hint = "add upload: with a regular expression matching the files static_files serves"
	}
	if (typ == HandlerStaticFiles || typ == HandlerStaticDir) && h.MimeType != "" && len(h.HTTPHeaders) > 0 {
		for k, v := range h.HTTPHeaders {
			if strings.EqualFold(k, "Content-Type") {
				c.r.Errorf(m.At("http_headers"), m.Field("http_headers"),
					"http_header specified a Content-Type header of '%s' in a handler that also specified a mime_type of '%s'.", v, h.MimeType).
					Hint = "keep either mime_type or the Content-Type header"
			}
		}
	}
}

func pyNone(m *Meta, key, v string) string {
	if !given(m, key) {
		return "None"
	}
	return v
}

func isCommonHandlerField(attr string) bool {
	switch attr {
	case "url", "login", "auth_fail_action", "secure", "redirect_http_response_code":
		return true
	}
	return false
}

func handlerAllows(typ, attr string) bool {
	if typ == HandlerScript {
		return strings.Contains("position", attr)
	}
	return contains(handlerAllowed[typ], attr)
}

var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-authenticate": true, "proxy-authorization": true,
	"te": true, "trailers": true, "transfer-encoding": true, "upgrade": true,
}

var requestHeaders = map[string]bool{
	"accept": true, "accept-charset": true, "accept-encoding": true, "accept-language": true,
	"authorization": true, "expect": true, "from": true, "host": true, "if-match": true,
	"if-modified-since": true, "if-none-match": true, "if-range": true, "if-unmodified-since": true,
	"max-forwards": true, "proxy-authorization": true, "range": true, "referer": true, "te": true,
	"user-agent": true,
}

var headerMaxValue = map[string]int{
	"content-security-policy": 10240, "x-content-security-policy": 10240, "x-webkit-csp": 10240,
	"content-security-policy-report-only": 10240, "set-cookie": 4096, "set-cookie2": 4096, "location": 2047,
}

func isTokenChar(b byte) bool {
	return b > 32 && b < 127 && !strings.ContainsRune(`()<>@,;:\"/[]?={}`, rune(b))
}

func isPrintable(b byte) bool { return (b >= 32 && b < 127) || b == '\t' || b == '\n' || b == '\r' }

func (c checker) httpHeaders(h *URLMap) {
	m := &h.Meta
	if len(h.HTTPHeaders) > 500 {
		c.r.Errorf(m.At("http_headers"), m.Field("http_headers"),
			"Tried to add another header when the current set of HTTP headers already has the maximum allowed number of headers, 500.").
			Hint = "keep at most 500 headers"
	}
	for _, name := range sortedKeys(h.HTTPHeaders) {
		value := h.HTTPHeaders[name]
		field := yaml11.JoinPath(m.Field("http_headers"), name)
		pos := m.At("http_headers")
		bad := func(format string, args ...any) {
			c.r.Errorf(pos, field, format, args...).Hint = "remove or rename the header; see RFC 2616 for which headers a response may carry"
		}
		lower := strings.ToLower(name)
		switch {
		case !isASCII(name):
			bad("HTTP header values must not contain non-ASCII data")
			continue
		case lower == "" || !allBytes(lower, isTokenChar):
			bad("An HTTP header must be a non-empty RFC 2616 token.")
			continue
		case requestHeaders[lower]:
			bad("'%s' can only be used in HTTP requests, not responses.", name)
			continue
		case strings.HasPrefix(lower, "x-appengine"):
			bad("HTTP header names that begin with X-Appengine are reserved.")
			continue
		case hopByHop[lower]:
			bad("Only use end-to-end headers may be used. See RFC 2616 section 13.5.1.")
			continue
		case lower == "content-encoding" || lower == "content-length" || lower == "date" || lower == "server":
			bad("%s is a disallowed header.", lower)
			continue
		}
		if !isASCII(value) {
			bad("HTTP header values must not contain non-ASCII data")
			continue
		}
		if !allBytes(value, isPrintable) {
			bad("HTTP header field values must consist of printable characters.")
			continue
		}
		if len(lower)+len(value)+4 >= 500 {
			max, ok := headerMaxValue[lower]
			if !ok {
				bad("HTTP header (name + value) is too long.")
			} else if len(value) > max {
				bad("'%s' header value has length %d, which exceed the maximum allowed, %d.", lower, len(value), max)
			}
		}
	}
}

func isASCII(s string) bool { return allBytes(s, func(b byte) bool { return b < 128 }) }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// appInitialized is AppInfoExternal.CheckInitialized.
func (c checker) appInitialized(a *App) {
	m := &a.Meta
	if given(m, "service") && given(m, "module") {
		c.r.Errorf(m.KeyAt("module"), "module", "Only one of the two fields [service] (preferred) and [module] (deprecated) may be set.").
			Hint = "remove module: and keep service:"
	} else if given(m, "module") {
		c.r.Warnf(m.KeyAt("module"), "module", "Field module is deprecated; use service instead.").
			Hint = "rename module: to service:"
	}
	if a.Runtime == "" && !given(m, "runtime") {
		if !a.IsVM() {
			c.r.Errorf(m.Pos, "runtime", `You must specify a "runtime" field for non-vm applications.`).
				Hint = "add a runtime: line, e.g. runtime: python27"
		} else {
			a.Runtime = "custom"
		}
	}
	if len(a.Handlers) > MaxURLMaps {
		c.r.Errorf(m.At("handlers"), "handlers", "Found more than %d URLMap entries in application configuration", MaxURLMaps).
			Hint = "merge handlers with regular expressions"
	}
	vmPy27 := vmRuntimePython27(a)
	if a.Threadsafe == nil && (a.Runtime == "python27" || vmPy27) {
		pos := m.Pos
		if m.Has("threadsafe") {
			pos = m.At("threadsafe")
		}
		c.r.Errorf(pos, "threadsafe", "threadsafe must be present and set to a true or false YAML value").
			Hint = "add threadsafe: true (or false for CGI scripts)"
	}
	if a.AutoIDPolicy == "legacy" {
		c.r.Warnf(m.At("auto_id_policy"), "auto_id_policy",
			"You have set the datastore auto_id_policy to 'legacy'. It is recommended that you select 'default' instead.").
			Hint = "legacy auto ids are deprecated"
	}
	if ref := a.BetaSettings["source_reference"]; ref != "" {
		if err := validateSourceReferences(ref); err != "" {
			c.r.Errorf(m.At("beta_settings"), "beta_settings.source_reference", "%s", err).
				Hint = "write one [repository_uri#]hex_revision per line"
		}
	}
	if len(a.Libraries) > 0 {
		if !vmPy27 && a.Runtime != "python27" {
			c.r.Errorf(m.KeyAt("libraries"), "libraries", `libraries entries are only supported by the "python27" runtime`).
				Hint = "remove libraries: (other runtimes install their own dependencies)"
		}
		seen := map[string]bool{}
		for i, l := range a.Libraries {
			if seen[l.Name] {
				c.r.Errorf(l.Meta.At("name"), fmt.Sprintf("libraries[%d].name", i), "Duplicate library entry for %s", l.Name).
					Hint = "list each library once"
			}
			seen[l.Name] = true
		}
	}
	if a.Version != "" && strings.Contains(a.Version, "-dot-") {
		c.r.Errorf(m.At("version"), "version", `Version "%s" cannot contain the string "-dot-"`, a.Version).
			Hint = "-dot- separates parts of App Engine host names; choose another version name"
	}
	if a.Version != "" && strings.HasPrefix(a.Version, "ah-builtin") {
		c.r.Errorf(m.At("version"), "version", `Version "%s" cannot start with "ah-builtin" because it is a reserved version name prefix.`, a.Version).
			Hint = "choose a version name that does not start with ah-builtin"
	}
	if len(a.Handlers) > 0 {
		hasEndpoint := false
		for _, h := range a.Handlers {
			if h.HandlerType() == HandlerAPIEndpoint {
				hasEndpoint = true
			}
		}
		if hasEndpoint && a.APIConfig == nil {
			c.r.Errorf(m.At("handlers"), "handlers", "An api_endpoint handler was specified, but the required api_config stanza was not configured.").
				Hint = "add an api_config: block"
		}
		if a.Threadsafe != nil && *a.Threadsafe && a.Runtime == "python27" {
			c.cgiHandlers(a.Handlers, "threadsafe")
		}
	}
	var scalings []string
	for _, k := range m.Keys {
		if (k == "automatic_scaling" || k == "manual_scaling" || k == "basic_scaling") && given(m, k) {
			scalings = append(scalings, k)
		}
	}
	if len(scalings) > 1 {
		c.r.Errorf(m.KeyAt(scalings[1]), scalings[1], "There may be only one of 'automatic_scaling', 'manual_scaling', or 'basic_scaling'.").
			Hint = "keep one scaling block"
	}
}

// cgiHandlers reports python27 CGI scripts (a path, or a .py file) in a
// threadsafe app; word is "threadsafe" or, after merging, "Threadsafe".
func (c checker) cgiHandlers(hs []*URLMap, word string) {
	for _, h := range hs {
		if h.Script != "" && (strings.HasSuffix(h.Script, ".py") || strings.Contains(h.Script, "/")) {
			file := h.File
			if file == "" {
				file = c.r.File
			}
			c.r.Problems = append(c.r.Problems, Problem{
				File: file, Line: h.Meta.At("script").Line, Column: h.Meta.At("script").Column, Field: h.Meta.Field("script"),
				Message: fmt.Sprintf("%s cannot be enabled with CGI handler: %s", word, h.Script),
				Hint:    "name a WSGI application (module.app) or set threadsafe: false",
			})
		}
	}
}

func vmRuntimePython27(a *App) bool {
	return (a.Runtime == "vm" && a.VMSettings != nil && a.VMSettings["vm_runtime"] == "python27") ||
		(a.BetaSettings != nil && a.BetaSettings["vm_runtime"] == "python27")
}

var (
	reSourceRevision = newRegex(`[0-9a-fA-F]+`)
	reSourceRepo     = newRegex(`[a-z][a-z0-9\-\+\.]*:[^#]*`)
)

func validateSourceReferences(refs string) string {
	if len(refs) > 2048 {
		return fmt.Sprintf("Total source reference(s) size exceeds the limit: %d > 2048", len(refs))
	}
	for _, line := range strings.Split(strings.ReplaceAll(refs, "\r\n", "\n"), "\n") {
		ref := strings.TrimSpace(line)
		repo, rev, hasRepo := strings.Cut(ref, "#")
		if !hasRepo {
			rev = repo
		}
		if !reSourceRevision.Match(rev) {
			return "Bad revision identifier: " + rev
		}
		if hasRepo && !reSourceRepo.Match(repo) {
			return "Bad repository URI: " + repo
		}
	}
	return ""
}

// handlerLoaded is ValidateHandlers for one handler: an omitted secure
// becomes optional, and /form draws the SDK's warning.
func (c checker) handlerLoaded(h *URLMap) {
	if h.Secure == "default" {
		h.Secure = "optional"
	}
	if h.URL == "/form" {
		c.r.Warnf(h.Meta.At("url"), h.Meta.Field("url"), `The URL path "/form" is reserved and will not be matched.`)
	}
}

// appLoaded is what LoadSingleAppInfo checks after the YAML pass.
func (c checker) appLoaded(a *App) {
	m := &a.Meta
	for _, h := range a.Handlers {
		c.handlerLoaded(h)
		if given(&h.Meta, "position") {
			c.r.Errorf(h.Meta.KeyAt("position"), h.Meta.Field("position"),
				"The position attribute was specified for this handler, but this is an app.yaml file.  Position attribute is only valid for include.yaml files.").
				Hint = "remove position:"
		}
	}
	if given(m, "application") && given(m, "project") && a.Application != "" && a.Project != "" {
		c.r.Errorf(m.KeyAt("project"), "project", `Specify one of "application: name" or "project: name"`).
			Hint = "remove one of the two lines"
	} else if a.Project != "" {
		a.Application, a.Project = a.Project, ""
	}
	if a.Module != "" {
		if a.Service == "" {
			a.Service = a.Module
		}
		a.Module, a.ModuleGiven = "", true
	}
}

// ValidApplicationID reports whether s is an application id the SDK
// accepts (for -A and `application:`).
func ValidApplicationID(s string) bool { return reApplication.Match(s) }

// ValidServiceID reports whether s is a service (module) id the SDK accepts.
func ValidServiceID(s string) bool { return reModuleID.Match(s) }

// ValidVersionID reports whether s is a version id the SDK accepts.
func ValidVersionID(s string) bool {
	return reVersionID.Match(s) && !strings.Contains(s, "-dot-") && !strings.HasPrefix(s, "ah-builtin")
}
