// Makes one call with an official SDK at its default retry settings and
// prints the error it ends with as one JSON object. Usage: node retries.cjs
// openai|anthropic. Env: CLIENTS_DIR (the pinned install), BASE_URL (the
// gateway; /v1 is added for openai), API_KEY, MODEL.
const { createRequire } = require('module');
const req = createRequire(process.env.CLIENTS_DIR + '/package.json');

async function main(sdk) {
  const model = process.env.MODEL || 'sim-small';
  const messages = [{ role: 'user', content: 'hi' }];
  if (sdk === 'openai') {
    const { OpenAI } = req('openai');
    const client = new OpenAI({ baseURL: process.env.BASE_URL + '/v1', apiKey: process.env.API_KEY });
    await client.chat.completions.create({ model, messages });
  } else {
    const { Anthropic } = req('@anthropic-ai/sdk');
    const client = new Anthropic({ baseURL: process.env.BASE_URL, apiKey: process.env.API_KEY });
    await client.messages.create({ model, max_tokens: 64, messages });
  }
  return { error: null };
}

const start = Date.now();
main(process.argv[2]).then(
  (r) => console.log(JSON.stringify(r)),
  (e) => console.log(JSON.stringify({ error: e.constructor.name, status: e.status ?? null, message: String(e.message), ms: Date.now() - start })),
);
