package sim

import (
	"net/http"
	"strings"

	"github.com/switchyard/switchyard/gateway/llm"
)

// modelsCreated is the creation time the model lists give every model
// (2025-01-01), fixed so that the lists are deterministic.
const (
	modelsCreated     = 1735689600
	modelsCreatedText = "2025-01-01T00:00:00Z"
)

// serveModels answers the model lists and lookups: OpenAI's shape, or
// Anthropic's for a request with an anthropic-version header, under /v1;
// Gemini's under /v1beta.
func (s *Server) serveModels(w http.ResponseWriter, r *http.Request) {
	api := llm.APIOpenAIChat
	prefix := "/v1/models"
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1beta/"):
		api, prefix = llm.APIGemini, "/v1beta/models"
	case r.Header.Get("anthropic-version") != "":
		api = llm.APIAnthropicMessages
	}
	x := s.newExchange(w, r, api, nil)
	if r.Method != http.MethodGet {
		x.fail(&llm.Error{Kind: llm.ErrInvalidRequest, Status: http.StatusMethodNotAllowed,
			Message: "Method " + r.Method + " is not allowed for " + r.URL.Path + "; use GET"})
		return
	}
	if e := s.authenticate(r, api); e != nil {
		x.fail(e)
		return
	}
	x.setIDHeader()
	id := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, prefix), "/")
	if id == "" {
		x.writeJSON(http.StatusOK, s.modelList(api))
		return
	}
	if _, ok := s.models[id]; !ok && s.cfg.StrictModels {
		x.fail(modelNotFound(api, id))
		return
	}
	x.writeJSON(http.StatusOK, appendModel(nil, api, id))
}

func (s *Server) modelList(api llm.API) []byte {
	var b []byte
	switch api {
	case llm.APIAnthropicMessages:
		b = append(b, `{"data":[`...)
	case llm.APIGemini:
		b = append(b, `{"models":[`...)
	default:
		b = append(b, `{"object":"list","data":[`...)
	}
	for i, m := range s.cfg.Models {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendModel(b, api, m.Name)
	}
	b = append(b, ']')
	if api == llm.APIAnthropicMessages {
		b = append(b, `,"has_more":false,"first_id":`...)
		b = appendString(b, s.cfg.Models[0].Name)
		b = append(b, `,"last_id":`...)
		b = appendString(b, s.cfg.Models[len(s.cfg.Models)-1].Name)
	}
	return append(b, '}')
}

// appendModel appends one model in the API's shape.
func appendModel(b []byte, api llm.API, name string) []byte {
	switch api {
	case llm.APIAnthropicMessages:
		b = append(b, `{"type":"model","id":`...)
		b = appendString(b, name)
		b = append(b, `,"display_name":`...)
		b = appendString(b, name)
		b = append(b, `,"created_at":"`+modelsCreatedText+`"}`...)
	case llm.APIGemini:
		b = append(b, `{"name":`...)
		b = appendString(b, "models/"+name)
		b = append(b, `,"version":"001","displayName":`...)
		b = appendString(b, name)
		b = append(b, `,"description":"Switchyard simulated model","inputTokenLimit":1048576,"outputTokenLimit":65536,"supportedGenerationMethods":["generateContent","streamGenerateContent"]}`...)
	default:
		b = append(b, `{"id":`...)
		b = appendString(b, name)
		b = append(b, `,"object":"model","created":`...)
		b = appendInt(b, modelsCreated)
		b = append(b, `,"owned_by":"switchyard"}`...)
	}
	return b
}
