package appconfig

import "github.com/appcfg/appcfg/internal/yaml11"

// Problem is one finding about a configuration file, with its position.
type Problem = yaml11.Problem

// Pos is a 1-based line and column.
type Pos = yaml11.Pos

// Meta records where a decoded mapping and its keys are in the file.
type Meta = yaml11.Meta
