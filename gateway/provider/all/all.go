// Package all links every built-in provider kind into a binary.
package all

import (
	_ "github.com/switchyard/switchyard/gateway/provider/anthropic"
	_ "github.com/switchyard/switchyard/gateway/provider/gemini"
	_ "github.com/switchyard/switchyard/gateway/provider/openai"
	_ "github.com/switchyard/switchyard/gateway/provider/openaicompat"
	_ "github.com/switchyard/switchyard/gateway/provider/simprovider"
)
