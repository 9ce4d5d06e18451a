// Runs one case of the official openai SDK against the gateway and prints
// the outcome as one JSON object. Usage: node openai.cjs CASE
// Env: CLIENTS_DIR (the pinned install), BASE_URL (…/v1), API_KEY, MODEL.
const { createRequire } = require('module');
const req = createRequire(process.env.CLIENTS_DIR + '/package.json');
const OpenAI = req('openai').default;

const client = new OpenAI({ baseURL: process.env.BASE_URL, apiKey: process.env.API_KEY, maxRetries: 0 });
const model = process.env.MODEL || 'sim-small';
const tool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};
const toolDirective = `[[sim tool=get_weather args='{"city":"Paris"}']]`;

const cases = {
  async chat() {
    const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello from the openai SDK' }] }).withResponse();
    return { text: data.choices[0].message.content, finish: data.choices[0].finish_reason, usage: data.usage, callID: response.headers.get('x-switchyard-call-id') };
  },
  async chat_stream_tool() {
    const { data: stream, response } = await client.chat.completions.create({
      model, stream: true, stream_options: { include_usage: true }, tools: [tool],
      messages: [{ role: 'user', content: 'What is the weather? ' + toolDirective }],
    }).withResponse();
    let args = '', name = '', finish = '', usage = null, chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        for (const tc of c.delta.tool_calls || []) { if (tc.function?.name) name = tc.function.name; args += tc.function?.arguments || ''; }
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    return { tool: name, args: JSON.parse(args), finish, usage, chunks, callID: response.headers.get('x-switchyard-call-id') };
  },
  async chat_stream_text() {
    const { data: stream, response } = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'Stream me a story' }] }).withResponse();
    let text = '', chunks = 0;
    for await (const chunk of stream) { chunks++; text += chunk.choices[0]?.delta?.content || ''; }
    return { text, chunks, callID: response.headers.get('x-switchyard-call-id') };
  },
  async responses() {
    const { data, response } = await client.responses.create({ model, input: 'Hello from the Responses API' }).withResponse();
    return { text: data.output_text, status: data.status, usage: data.usage, callID: response.headers.get('x-switchyard-call-id') };
  },
  async responses_stream_tool() {
    const { data: stream, response } = await client.responses.create({
      model, stream: true, input: 'What is the weather? ' + toolDirective,
      tools: [{ type: 'function', name: 'get_weather', parameters: tool.function.parameters, strict: false }],
    }).withResponse();
    let call = null, completed = null, types = new Set();
    for await (const ev of stream) {
      types.add(ev.type);
      if (ev.type === 'response.output_item.done' && ev.item.type === 'function_call') call = ev.item;
      if (ev.type === 'response.completed') completed = ev.response;
    }
    return { tool: call?.name, args: call && JSON.parse(call.arguments), status: completed?.status, usage: completed?.usage, events: [...types], callID: response.headers.get('x-switchyard-call-id') };
  },
  async error() {
    try {
      await client.chat.completions.create({ model, messages: [{ role: 'user', content: process.env.PROMPT || 'hi' }] });
      return { error: null };
    } catch (e) {
      return { error: e.constructor.name, status: e.status, message: e.message, type: e.type, code: e.code };
    }
  },
  async error_stream() {
    try {
      const stream = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: process.env.PROMPT || 'hi' }] });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content || '';
      return { error: null, text };
    } catch (e) {
      return { error: e.constructor.name, status: e.status, message: e.message };
    }
  },
};

cases[process.argv[2]]().then(
  (r) => { process.stdout.write(JSON.stringify(r) + '\n'); },
  (e) => { process.stdout.write(JSON.stringify({ crash: String(e && e.stack || e) }) + '\n'); process.exitCode = 1; },
);
