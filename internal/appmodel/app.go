package appmodel

import (
	"strings"

	"github.com/appcfg/appcfg/internal/yaml11"
)

// App is an app.yaml (or another service's yaml file) as the SDK's
// AppInfoExternal holds it after parsing: includes and builtins merged,
// `module:` folded into Service and `project:` into Application.
//
// String fields are empty when the key is absent or null; Meta.Has tells
// the two apart from an explicit empty value where that matters.
type App struct {
	Meta yaml11.Meta `yaml:"-"`

	Application    string `yaml:"application,omitempty"`
	Project        string `yaml:"project,omitempty"`
	Service        string `yaml:"service,omitempty"`
	Module         string `yaml:"module,omitempty"` // the deprecated spelling; folded into Service after parsing
	Version        string `yaml:"version,omitempty"`
	Runtime        string `yaml:"runtime,omitempty"`
	RuntimeChannel string `yaml:"runtime_channel,omitempty"`
	API            string `yaml:"api_version,omitempty"`
	Main           string `yaml:"main,omitempty"`
	Env            string `yaml:"env,omitempty"`
	Entrypoint     string `yaml:"entrypoint,omitempty"`
	InstanceClass  string `yaml:"instance_class,omitempty"`
	SourceLanguage string `yaml:"source_language,omitempty"`
	ServiceAccount string `yaml:"service_account,omitempty"`
	AutoIDPolicy   string `yaml:"auto_id_policy,omitempty"`

	Threadsafe        *bool `yaml:"threadsafe,omitempty"`
	VM                *bool `yaml:"vm,omitempty"`
	CodeLock          *bool `yaml:"code_lock,omitempty"`
	StandardWebsocket *bool `yaml:"standard_websocket,omitempty"`
	AppEngineAPIs     *bool `yaml:"app_engine_apis,omitempty"`

	RuntimeConfig     map[string]string `yaml:"runtime_config,omitempty"`
	VMSettings        map[string]string `yaml:"vm_settings,omitempty"`
	BetaSettings      map[string]string `yaml:"beta_settings,omitempty"`
	EnvVariables      map[string]string `yaml:"env_variables,omitempty"`
	BuildEnvVariables map[string]string `yaml:"build_env_variables,omitempty"`

	EndpointsAPIService     *EndpointsAPIService     `yaml:"endpoints_api_service,omitempty"`
	AutomaticScaling        *AutomaticScaling        `yaml:"automatic_scaling,omitempty"`
	ManualScaling           *ManualScaling           `yaml:"manual_scaling,omitempty"`
	BasicScaling            *BasicScaling            `yaml:"basic_scaling,omitempty"`
	VMHealthCheck           *HealthCheck             `yaml:"vm_health_check,omitempty"`
	HealthCheck             *HealthCheck             `yaml:"health_check,omitempty"`
	Resources               *Resources               `yaml:"resources,omitempty"`
	LivenessCheck           *LivenessCheck           `yaml:"liveness_check,omitempty"`
	ReadinessCheck          *ReadinessCheck          `yaml:"readiness_check,omitempty"`
	Network                 *Network                 `yaml:"network,omitempty"`
	VPCAccessConnector      *VPCAccessConnector      `yaml:"vpc_access_connector,omitempty"`
	FlexibleRuntimeSettings *FlexibleRuntimeSettings `yaml:"flexible_runtime_settings,omitempty"`
	AdminConsole            *AdminConsole            `yaml:"admin_console,omitempty"`
	APIConfig               *APIConfigHandler        `yaml:"api_config,omitempty"`

	Zones []string `yaml:"zones,omitempty"`
	// BuiltIns are the `builtins:` items, each a one-key mapping such as
	// {remote_api: on}; values are normalised to "on" or "off".
	BuiltIns          []map[string]string `yaml:"builtins,omitempty"`
	Includes          []string            `yaml:"includes,omitempty"`
	Handlers          []*URLMap           `yaml:"handlers,omitempty"`
	Libraries         []*Library          `yaml:"libraries,omitempty"`
	InboundServices   []string            `yaml:"inbound_services,omitempty"`
	DefaultExpiration string              `yaml:"default_expiration,omitempty"`
	DerivedFileType   []string            `yaml:"derived_file_type,omitempty"`
	ErrorHandlers     []*ErrorHandler     `yaml:"error_handlers,omitempty"`
	Backends          []*BackendEntry     `yaml:"backends,omitempty"`

	// SkipFiles is the list of skip_files patterns (a single-string form
	// becomes a one-item list); nil when the key is absent, so the SDK's
	// default applies (see appconfig.DefaultSkipFiles).
	SkipFiles []string `yaml:"skip_files,omitempty"`
	// SkipFilesPos is where each SkipFiles pattern is written; patterns
	// merged from include files carry the include's positions.
	SkipFilesPos []yaml11.Pos `yaml:"-"`
	// NobuildFiles is like SkipFiles for nobuild_files (default "^$").
	NobuildFiles []string `yaml:"nobuild_files,omitempty"`

	// Path is the file the App was read from.
	Path string `yaml:"-"`
	// ModuleGiven records that the file spelled the service as `module:`.
	ModuleGiven bool `yaml:"-"`
}

// SDKName is the SDK's class name, used in messages.
func (*App) SDKName() string { return "AppInfoExternal" }

// ServiceName is the service the file deploys, "default" when unset.
func (a *App) ServiceName() string {
	if a.Service != "" {
		return a.Service
	}
	if a.Module != "" {
		return a.Module
	}
	return "default"
}

// IsVM reports whether the app runs on the flexible environment or Managed
// VMs, as AppInfoExternal.IsVm decides.
func (a *App) IsVM() bool {
	return (a.VM != nil && *a.VM) || a.Env == "2" || a.Env == "flex" || a.Env == "flexible"
}

// SecondGenFamily names the second-generation ("Ti") standard runtime
// family runtime belongs to, "" for none: the one statement of gcloud's
// list (env.py's, and source_files_util's registry of default ignore
// files, which is the same list), matched at the start of the runtime
// string as Python's re.match does:
//
//	nodejs\d*  php[789]\d*  python3\d*  go1\d\d(\w+\d)?  java[123456]\d*
//
// Read by hand: matched at the start, each pattern is a prefix and at most
// two digits (the optional tails cannot change the answer), and compiling
// the five expressions cost every ls_files and update a fifth of a
// millisecond before the walk could start.
func SecondGenFamily(runtime string) string {
	digit := func(i int) bool { return i < len(runtime) && '0' <= runtime[i] && runtime[i] <= '9' }
	in := func(i int, set string) bool { return i < len(runtime) && strings.IndexByte(set, runtime[i]) >= 0 }
	switch {
	case strings.HasPrefix(runtime, "nodejs"):
		return "nodejs"
	case strings.HasPrefix(runtime, "php") && in(3, "789"):
		return "php"
	case strings.HasPrefix(runtime, "python3"):
		return "python3"
	case strings.HasPrefix(runtime, "go1") && digit(3) && digit(4):
		return "go"
	case strings.HasPrefix(runtime, "java") && in(4, "123456"):
		return "java"
	}
	return ""
}

// IsSecondGen reports whether the app uses a second-generation standard
// runtime, which refuses skip_files (a .gcloudignore replaces it) and
// threadsafe, as gcloud decides.
func (a *App) IsSecondGen() bool {
	if a.IsVM() || a.Runtime == "vm" {
		return false
	}
	return SecondGenFamily(a.Runtime) != ""
}

// EffectiveRuntime resolves runtime "vm" to the vm_runtime setting, as
// AppInfoExternal.GetEffectiveRuntime does.
func (a *App) EffectiveRuntime() string {
	if a.Runtime == "vm" {
		if a.VMSettings != nil {
			return a.VMSettings["vm_runtime"]
		}
		if a.BetaSettings != nil {
			return a.BetaSettings["vm_runtime"]
		}
	}
	return a.Runtime
}

// URLMap is one entry of `handlers:`.
type URLMap struct {
	Meta yaml11.Meta `yaml:"-"`

	URL                      string            `yaml:"url,omitempty"`
	Login                    string            `yaml:"login,omitempty"`
	AuthFailAction           string            `yaml:"auth_fail_action,omitempty"`
	Secure                   string            `yaml:"secure,omitempty"`
	Script                   string            `yaml:"script,omitempty"`
	StaticFiles              string            `yaml:"static_files,omitempty"`
	Upload                   string            `yaml:"upload,omitempty"`
	ApplicationReadable      *bool             `yaml:"application_readable,omitempty"`
	StaticDir                string            `yaml:"static_dir,omitempty"`
	MimeType                 string            `yaml:"mime_type,omitempty"`
	Expiration               string            `yaml:"expiration,omitempty"`
	RequireMatchingFile      *bool             `yaml:"require_matching_file,omitempty"`
	HTTPHeaders              map[string]string `yaml:"http_headers,omitempty"`
	HandlerPosition          string            `yaml:"position,omitempty"` // head or tail; include files only
	APIEndpoint              string            `yaml:"api_endpoint,omitempty"`
	RedirectHTTPResponseCode string            `yaml:"redirect_http_response_code,omitempty"`

	// Position is where the handler starts in its file.
	Position yaml11.Pos `yaml:"-"`
	// File is the file the handler was written in (app.yaml or an include).
	File string `yaml:"-"`
}

// SDKName is the SDK's class name, used in messages.
func (*URLMap) SDKName() string { return "URLMap" }

// The handler types, by the key that decides them.
const (
	HandlerStaticFiles = "static_files"
	HandlerStaticDir   = "static_dir"
	HandlerScript      = "script"
	HandlerAPIEndpoint = "api_endpoint"
)

// HandlerType is the key that decides the handler's type, as
// URLMap.GetHandlerType picks it; "" when there is none.
func (h *URLMap) HandlerType() string {
	if h.Meta.Has("api_endpoint") && !h.Meta.IsNull("api_endpoint") {
		return HandlerAPIEndpoint
	}
	for _, k := range []string{HandlerStaticFiles, HandlerStaticDir, HandlerScript} {
		if h.Meta.Has(k) && !h.Meta.IsNull(k) {
			return k
		}
	}
	return ""
}

// Library is one entry of `libraries:`.
type Library struct {
	Meta    yaml11.Meta `yaml:"-"`
	Name    string      `yaml:"name"`
	Version string      `yaml:"version"`
}

// SDKName is the SDK's class name, used in messages.
func (*Library) SDKName() string { return "Library" }

// ErrorHandler is one entry of `error_handlers:`.
type ErrorHandler struct {
	Meta      yaml11.Meta `yaml:"-"`
	ErrorCode string      `yaml:"error_code,omitempty"`
	File      string      `yaml:"file"`
	MimeType  string      `yaml:"mime_type,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*ErrorHandler) SDKName() string { return "ErrorHandlers" }

// AutomaticScaling is the `automatic_scaling:` block.
type AutomaticScaling struct {
	Meta yaml11.Meta `yaml:"-"`

	MinIdleInstances      string `yaml:"min_idle_instances,omitempty"`
	MaxIdleInstances      string `yaml:"max_idle_instances,omitempty"`
	MinPendingLatency     string `yaml:"min_pending_latency,omitempty"`
	MaxPendingLatency     string `yaml:"max_pending_latency,omitempty"`
	MaxConcurrentRequests string `yaml:"max_concurrent_requests,omitempty"`

	MinNumInstances   *int64          `yaml:"min_num_instances,omitempty"`
	MaxNumInstances   *int64          `yaml:"max_num_instances,omitempty"`
	CoolDownPeriodSec *int64          `yaml:"cool_down_period_sec,omitempty"`
	CPUUtilization    *CPUUtilization `yaml:"cpu_utilization,omitempty"`

	MaxInstances                *int64   `yaml:"max_instances,omitempty"`
	MinInstances                *int64   `yaml:"min_instances,omitempty"`
	TargetCPUUtilization        *float64 `yaml:"target_cpu_utilization,omitempty"`
	TargetThroughputUtilization *float64 `yaml:"target_throughput_utilization,omitempty"`

	TargetNetworkSentBytesPerSec       *int64 `yaml:"target_network_sent_bytes_per_sec,omitempty"`
	TargetNetworkSentPacketsPerSec     *int64 `yaml:"target_network_sent_packets_per_sec,omitempty"`
	TargetNetworkReceivedBytesPerSec   *int64 `yaml:"target_network_received_bytes_per_sec,omitempty"`
	TargetNetworkReceivedPacketsPerSec *int64 `yaml:"target_network_received_packets_per_sec,omitempty"`
	TargetDiskWriteBytesPerSec         *int64 `yaml:"target_disk_write_bytes_per_sec,omitempty"`
	TargetDiskWriteOpsPerSec           *int64 `yaml:"target_disk_write_ops_per_sec,omitempty"`
	TargetDiskReadBytesPerSec          *int64 `yaml:"target_disk_read_bytes_per_sec,omitempty"`
	TargetDiskReadOpsPerSec            *int64 `yaml:"target_disk_read_ops_per_sec,omitempty"`
	TargetRequestCountPerSec           *int64 `yaml:"target_request_count_per_sec,omitempty"`
	TargetConcurrentRequests           *int64 `yaml:"target_concurrent_requests,omitempty"`

	CustomMetrics []*CustomMetric `yaml:"custom_metrics,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*AutomaticScaling) SDKName() string { return "AutomaticScaling" }

// CPUUtilization is automatic_scaling.cpu_utilization (flex).
type CPUUtilization struct {
	Meta                       yaml11.Meta `yaml:"-"`
	TargetUtilization          *float64    `yaml:"target_utilization,omitempty"`
	AggregationWindowLengthSec *int64      `yaml:"aggregation_window_length_sec,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*CPUUtilization) SDKName() string { return "CpuUtilization" }

// CustomMetric is one automatic_scaling.custom_metrics entry (flex).
type CustomMetric struct {
	Meta                     yaml11.Meta `yaml:"-"`
	MetricName               string      `yaml:"metric_name"`
	TargetType               string      `yaml:"target_type"`
	TargetUtilization        *float64    `yaml:"target_utilization,omitempty"`
	SingleInstanceAssignment *float64    `yaml:"single_instance_assignment,omitempty"`
	Filter                   string      `yaml:"filter,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*CustomMetric) SDKName() string { return "CustomMetric" }

// ManualScaling is the `manual_scaling:` block.
type ManualScaling struct {
	Meta      yaml11.Meta `yaml:"-"`
	Instances string      `yaml:"instances"`
}

// SDKName is the SDK's class name, used in messages.
func (*ManualScaling) SDKName() string { return "ManualScaling" }

// BasicScaling is the `basic_scaling:` block.
type BasicScaling struct {
	Meta         yaml11.Meta `yaml:"-"`
	MaxInstances string      `yaml:"max_instances"`
	IdleTimeout  string      `yaml:"idle_timeout,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*BasicScaling) SDKName() string { return "BasicScaling" }

// EndpointsAPIService is the `endpoints_api_service:` block.
type EndpointsAPIService struct {
	Meta            yaml11.Meta `yaml:"-"`
	Name            string      `yaml:"name"`
	RolloutStrategy string      `yaml:"rollout_strategy,omitempty"`
	ConfigID        string      `yaml:"config_id,omitempty"`
	TraceSampling   *bool       `yaml:"trace_sampling,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*EndpointsAPIService) SDKName() string { return "EndpointsApiService" }

// HealthCheck is the `health_check:` (and deprecated `vm_health_check:`) block.
type HealthCheck struct {
	Meta               yaml11.Meta `yaml:"-"`
	EnableHealthCheck  *bool       `yaml:"enable_health_check,omitempty"`
	CheckIntervalSec   *int64      `yaml:"check_interval_sec,omitempty"`
	TimeoutSec         *int64      `yaml:"timeout_sec,omitempty"`
	UnhealthyThreshold *int64      `yaml:"unhealthy_threshold,omitempty"`
	HealthyThreshold   *int64      `yaml:"healthy_threshold,omitempty"`
	RestartThreshold   *int64      `yaml:"restart_threshold,omitempty"`
	Host               string      `yaml:"host,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*HealthCheck) SDKName() string { return "HealthCheck" }

// LivenessCheck is the `liveness_check:` block.
type LivenessCheck struct {
	Meta             yaml11.Meta `yaml:"-"`
	CheckIntervalSec *int64      `yaml:"check_interval_sec,omitempty"`
	TimeoutSec       *int64      `yaml:"timeout_sec,omitempty"`
	FailureThreshold *int64      `yaml:"failure_threshold,omitempty"`
	SuccessThreshold *int64      `yaml:"success_threshold,omitempty"`
	InitialDelaySec  *int64      `yaml:"initial_delay_sec,omitempty"`
	Path             string      `yaml:"path,omitempty"`
	Host             string      `yaml:"host,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*LivenessCheck) SDKName() string { return "LivenessCheck" }

// ReadinessCheck is the `readiness_check:` block.
type ReadinessCheck struct {
	Meta               yaml11.Meta `yaml:"-"`
	CheckIntervalSec   *int64      `yaml:"check_interval_sec,omitempty"`
	TimeoutSec         *int64      `yaml:"timeout_sec,omitempty"`
	AppStartTimeoutSec *int64      `yaml:"app_start_timeout_sec,omitempty"`
	FailureThreshold   *int64      `yaml:"failure_threshold,omitempty"`
	SuccessThreshold   *int64      `yaml:"success_threshold,omitempty"`
	Path               string      `yaml:"path,omitempty"`
	Host               string      `yaml:"host,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*ReadinessCheck) SDKName() string { return "ReadinessCheck" }

// Resources is the `resources:` block (flex).
type Resources struct {
	Meta       yaml11.Meta `yaml:"-"`
	CPU        *float64    `yaml:"cpu,omitempty"`
	MemoryGB   *float64    `yaml:"memory_gb,omitempty"`
	DiskSizeGB *int64      `yaml:"disk_size_gb,omitempty"`
	Volumes    []*Volume   `yaml:"volumes,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*Resources) SDKName() string { return "Resources" }

// Volume is one resources.volumes entry.
type Volume struct {
	Meta       yaml11.Meta `yaml:"-"`
	Name       string      `yaml:"name"`
	SizeGB     *float64    `yaml:"size_gb"`
	VolumeType string      `yaml:"volume_type"`
}

// SDKName is the SDK's class name, used in messages.
func (*Volume) SDKName() string { return "Volume" }

// Network is the `network:` block (flex).
type Network struct {
	Meta            yaml11.Meta `yaml:"-"`
	ForwardedPorts  []string    `yaml:"forwarded_ports,omitempty"`
	InstanceTag     string      `yaml:"instance_tag,omitempty"`
	Name            string      `yaml:"name,omitempty"`
	SubnetworkName  string      `yaml:"subnetwork_name,omitempty"`
	SessionAffinity *bool       `yaml:"session_affinity,omitempty"`
	InstanceIPMode  string      `yaml:"instance_ip_mode,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*Network) SDKName() string { return "Network" }

// VPCAccessConnector is the `vpc_access_connector:` block.
type VPCAccessConnector struct {
	Meta          yaml11.Meta `yaml:"-"`
	Name          string      `yaml:"name"`
	EgressSetting string      `yaml:"egress_setting,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*VPCAccessConnector) SDKName() string { return "VpcAccessConnector" }

// FlexibleRuntimeSettings is the `flexible_runtime_settings:` block.
type FlexibleRuntimeSettings struct {
	Meta            yaml11.Meta `yaml:"-"`
	OperatingSystem string      `yaml:"operating_system"`
	RuntimeVersion  string      `yaml:"runtime_version,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*FlexibleRuntimeSettings) SDKName() string { return "FlexibleRuntimeSettings" }

// AdminConsole is the legacy `admin_console:` block.
type AdminConsole struct {
	Meta  yaml11.Meta         `yaml:"-"`
	Pages []*AdminConsolePage `yaml:"pages,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*AdminConsole) SDKName() string { return "AdminConsole" }

// AdminConsolePage is one admin_console.pages entry.
type AdminConsolePage struct {
	Meta yaml11.Meta `yaml:"-"`
	URL  string      `yaml:"url"`
	Name string      `yaml:"name"`
}

// SDKName is the SDK's class name, used in messages.
func (*AdminConsolePage) SDKName() string { return "AdminConsolePage" }

// APIConfigHandler is the `api_config:` block.
type APIConfigHandler struct {
	Meta           yaml11.Meta `yaml:"-"`
	URL            string      `yaml:"url"`
	Script         string      `yaml:"script"`
	Login          string      `yaml:"login,omitempty"`
	AuthFailAction string      `yaml:"auth_fail_action,omitempty"`
	Secure         string      `yaml:"secure,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*APIConfigHandler) SDKName() string { return "ApiConfigHandler" }

// BackendEntry is one legacy `backends:` entry.
type BackendEntry struct {
	Meta                  yaml11.Meta `yaml:"-"`
	Name                  string      `yaml:"name"`
	Class                 string      `yaml:"class,omitempty"`
	Instances             *int64      `yaml:"instances,omitempty"`
	MaxConcurrentRequests *int64      `yaml:"max_concurrent_requests,omitempty"`
	Options               string      `yaml:"options,omitempty"`
	Public                *bool       `yaml:"public,omitempty"`
	Dynamic               *bool       `yaml:"dynamic,omitempty"`
	Failfast              *bool       `yaml:"failfast,omitempty"`
	Start                 string      `yaml:"start,omitempty"`
	State                 string      `yaml:"state,omitempty"`
}

// SDKName is the SDK's class name, used in messages.
func (*BackendEntry) SDKName() string { return "BackendEntry" }
