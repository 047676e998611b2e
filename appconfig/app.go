package appconfig

import "github.com/appcfg/appcfg/internal/appmodel"

// The typed model of a service's yaml file lives in internal/appmodel, a
// leaf that the backend contract can name too: a deploy carries it to the
// host as it is. Parsing, merging and defaults stay here.
type (
	App                     = appmodel.App
	URLMap                  = appmodel.URLMap
	Library                 = appmodel.Library
	ErrorHandler            = appmodel.ErrorHandler
	AutomaticScaling        = appmodel.AutomaticScaling
	CPUUtilization          = appmodel.CPUUtilization
	CustomMetric            = appmodel.CustomMetric
	ManualScaling           = appmodel.ManualScaling
	BasicScaling            = appmodel.BasicScaling
	EndpointsAPIService     = appmodel.EndpointsAPIService
	HealthCheck             = appmodel.HealthCheck
	LivenessCheck           = appmodel.LivenessCheck
	ReadinessCheck          = appmodel.ReadinessCheck
	Resources               = appmodel.Resources
	Volume                  = appmodel.Volume
	Network                 = appmodel.Network
	VPCAccessConnector      = appmodel.VPCAccessConnector
	FlexibleRuntimeSettings = appmodel.FlexibleRuntimeSettings
	AdminConsole            = appmodel.AdminConsole
	AdminConsolePage        = appmodel.AdminConsolePage
	APIConfigHandler        = appmodel.APIConfigHandler
	BackendEntry            = appmodel.BackendEntry
)

// The handler types, by the key that decides them.
const (
	HandlerStaticFiles = appmodel.HandlerStaticFiles
	HandlerStaticDir   = appmodel.HandlerStaticDir
	HandlerScript      = appmodel.HandlerScript
	HandlerAPIEndpoint = appmodel.HandlerAPIEndpoint
)

// DefaultSkipFiles is the SDK's skip_files when app.yaml gives none
// (appinfo.DEFAULT_SKIP_FILES, unchanged from SDK 1.7 to 1.9.91): include
// merging starts from it, and skipfiles applies it.
const DefaultSkipFiles = `^(.*/)?((#.*#)|(.*~)|(.*\.py[co])|(.*/RCS/.*)|(\..*)|)$`

// DefaultNobuildFiles is the SDK's nobuild_files when app.yaml gives none.
const DefaultNobuildFiles = `^$`

// SupportedLibrary is one entry of the SDK's table of python27 libraries.
type SupportedLibrary struct {
	Name       string
	Versions   []string // supported, oldest first
	Latest     string   // what "latest" means
	Default    string   // enabled without a libraries: entry, "" if none
	Deprecated []string
}

// NonDeprecated is the versions the SDK suggests in its messages.
func (l SupportedLibrary) NonDeprecated() []string {
	var out []string
	for _, v := range l.Versions {
		if !contains(l.Deprecated, v) {
			out = append(out, v)
		}
	}
	return out
}

// supportedLibraries is appinfo._SUPPORTED_LIBRARIES of Cloud SDK 578. The
// table changes between SDK releases, so it is data, not code.
var supportedLibraries = []SupportedLibrary{
	{Name: "clearsilver", Versions: []string{"0.10.5"}, Latest: "0.10.5"},
	{Name: "click", Versions: []string{"6.6"}, Latest: "6.6"},
	{Name: "django", Versions: []string{"1.2", "1.3", "1.4", "1.5", "1.9", "1.11"}, Latest: "1.4", Deprecated: []string{"1.2", "1.3", "1.5", "1.9"}},
	{Name: "enum", Versions: []string{"0.9.23"}, Latest: "0.9.23"},
	{Name: "endpoints", Versions: []string{"1.0"}, Latest: "1.0"},
	{Name: "flask", Versions: []string{"0.12"}, Latest: "0.12"},
	{Name: "futures", Versions: []string{"3.0.5"}, Latest: "3.0.5"},
	{Name: "grpcio", Versions: []string{"1.0.0"}, Latest: "1.0.0"},
	{Name: "itsdangerous", Versions: []string{"0.24"}, Latest: "0.24"},
	{Name: "jinja2", Versions: []string{"2.6"}, Latest: "2.6"},
	{Name: "lxml", Versions: []string{"2.3", "2.3.5", "3.7.3"}, Latest: "3.7.3", Deprecated: []string{"2.3", "2.3.5"}},
	{Name: "markupsafe", Versions: []string{"0.15", "0.23"}, Latest: "0.15"},
	{Name: "matplotlib", Versions: []string{"1.2.0"}, Latest: "1.2.0"},
	{Name: "MySQLdb", Versions: []string{"1.2.4b4", "1.2.4", "1.2.5"}, Latest: "1.2.5", Deprecated: []string{"1.2.4b4", "1.2.4"}},
	{Name: "mysqlclient", Versions: []string{"1.4.4"}, Latest: "1.4.4"},
	{Name: "numpy", Versions: []string{"1.6.1"}, Latest: "1.6.1"},
	{Name: "PIL", Versions: []string{"1.1.7"}, Latest: "1.1.7"},
	{Name: "protorpc", Versions: []string{"1.0"}, Latest: "1.0", Default: "1.0"},
	{Name: "pytz", Versions: []string{"2016.4", "2017.2", "2017.3"}, Latest: "2017.3", Default: "2017.3", Deprecated: []string{"2016.4", "2017.2"}},
	{Name: "crcmod", Versions: []string{"1.7"}, Latest: "1.7"},
	{Name: "protobuf", Versions: []string{"3.0.0"}, Latest: "3.0.0"},
	{Name: "psycopg2", Versions: []string{"2.8.3"}, Latest: "2.8.3"},
	{Name: "PyAMF", Versions: []string{"0.6.1", "0.7.2"}, Latest: "0.6.1"},
	{Name: "pycrypto", Versions: []string{"2.3", "2.6", "2.6.1"}, Latest: "2.6", Deprecated: []string{"2.3"}},
	{Name: "setuptools", Versions: []string{"0.6c11", "36.6.0"}, Latest: "36.6.0", Deprecated: []string{"0.6c11"}},
	{Name: "six", Versions: []string{"1.9.0", "1.12.0"}, Latest: "1.12.0", Default: "1.12.0"},
	{Name: "ssl", Versions: []string{"2.7", "2.7.11", "2.7.16", "2.7.current"}, Latest: "2.7.11", Deprecated: []string{"2.7", "2.7.16"}},
	{Name: "ujson", Versions: []string{"1.35"}, Latest: "1.35"},
	{Name: "webapp2", Versions: []string{"2.3", "2.5.1", "2.5.2"}, Latest: "2.5.2", Default: "2.3", Deprecated: []string{"2.5.1"}},
	{Name: "webob", Versions: []string{"1.1.1", "1.2.3"}, Latest: "1.2.3", Default: "1.1.1"},
	{Name: "werkzeug", Versions: []string{"0.11.10"}, Latest: "0.11.10", Default: "0.11.10"},
	{Name: "yaml", Versions: []string{"3.10"}, Latest: "3.10", Default: "3.10"},
}

// LookupLibrary finds a supported library by its exact name. The result is
// a copy, so the table stays as the SDK has it.
func LookupLibrary(name string) (SupportedLibrary, bool) {
	for _, l := range supportedLibraries {
		if l.Name == name {
			return l, true
		}
	}
	return SupportedLibrary{}, false
}

// LibraryNames lists the supported library names, in the SDK's order.
func LibraryNames() []string {
	names := make([]string, len(supportedLibraries))
	for i, l := range supportedLibraries {
		names[i] = l.Name
	}
	return names
}
