// Runs one case of the official @anthropic-ai/sdk against the gateway and
// prints the outcome as one JSON object. Usage: node anthropic.cjs CASE
// Env: CLIENTS_DIR, BASE_URL (the gateway's root), API_KEY, MODEL, PROMPT.
const { createRequire } = require('module');
const req = createRequire(process.env.CLIENTS_DIR + '/package.json');
const Anthropic = req('@anthropic-ai/sdk').default;

const client = new Anthropic({ baseURL: process.env.BASE_URL, apiKey: process.env.API_KEY, maxRetries: 0 });
const model = process.env.MODEL || 'sim-small';
const tool = { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

const cases = {
  async messages() {
    const { data, response } = await client.messages.create({ model, max_tokens: 256, messages: [{ role: 'user', content: 'Hello from the Anthropic SDK' }] }).withResponse();
    return { text: data.content[0].text, stop: data.stop_reason, usage: data.usage, callID: response.headers.get('x-switchyard-call-id') };
  },
  async messages_stream_tool() {
    const { data: stream, response } = await client.messages.create({
      model, max_tokens: 256, stream: true, tools: [tool],
      messages: [{ role: 'user', content: `What is the weather? [[sim tool=get_weather args='{"city":"Paris"}']]` }],
    }).withResponse();
    let json = '', name = '', stop = '', types = new Set(), usage = null;
    for await (const ev of stream) {
      types.add(ev.type);
      if (ev.type === 'content_block_start' && ev.content_block.type === 'tool_use') name = ev.content_block.name;
      if (ev.type === 'content_block_delta' && ev.delta.type === 'input_json_delta') json += ev.delta.partial_json;
      if (ev.type === 'message_delta') { stop = ev.delta.stop_reason; usage = ev.usage; }
    }
    return { tool: name, args: JSON.parse(json), stop, usage, events: [...types], callID: response.headers.get('x-switchyard-call-id') };
  },
  async messages_stream_helper() {
    // The SDK's higher-level helper accumulates the final message.
    const stream = client.messages.stream({ model, max_tokens: 256, messages: [{ role: 'user', content: 'Stream me a story' }] });
    const msg = await stream.finalMessage();
    return { text: msg.content[0].text, stop: msg.stop_reason, usage: msg.usage };
  },
  async error() {
    try {
      await client.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: process.env.PROMPT || 'hi' }] });
      return { error: null };
    } catch (e) {
      return { error: e.constructor.name, status: e.status, message: e.message, type: e.error?.error?.type };
    }
  },
  async error_stream() {
    try {
      const stream = client.messages.stream({ model, max_tokens: 64, messages: [{ role: 'user', content: process.env.PROMPT || 'hi' }] });
      await stream.finalMessage();
      return { error: null };
    } catch (e) {
      return { error: e.constructor.name, status: e.status, message: e.message };
    }
  },
};

cases[process.argv[2]]().then(
  (r) => { process.stdout.write(JSON.stringify(r) + '\n'); },
  (e) => { process.stdout.write(JSON.stringify({ crash: String(e && e.stack || e) }) + '\n'); process.exitCode = 1; },
);
