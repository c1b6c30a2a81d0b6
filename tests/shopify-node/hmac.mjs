// Checks otoq's Shopify HMACs with Shopify's own library (@shopify/shopify-api), offline.
// Input (stdin, JSON): {secret, query: {name: value}, body, body_hmac}.
// Output (stdout, JSON): what Shopify's code says about them, and the HMACs it computes itself.
import '@shopify/shopify-api/adapters/web-api';
import { shopifyApi, ApiVersion } from '@shopify/shopify-api';
import { createSHA256HMAC, HashFormat } from '@shopify/shopify-api/runtime';

const input = JSON.parse(await new Promise((resolve) => {
  let data = '';
  process.stdin.on('data', (c) => { data += c; });
  process.stdin.on('end', () => resolve(data));
}));

const shopify = shopifyApi({
  apiKey: 'test-client-id',
  apiSecretKey: input.secret,
  scopes: ['read_products'],
  hostName: 'otoq.example.com',
  apiVersion: Object.values(ApiVersion).at(-1),
  isEmbeddedApp: false,
  logger: { level: 0, log: () => {} },
});

// The OAuth callback query as Shopify's code validates it (HMAC and timestamp).
const queryValid = await shopify.utils.validateHmac(input.query).catch((e) => `error: ${e.message}`);

// A webhook request as Shopify's code validates it.
const request = new Request('https://otoq.example.com/shopify/webhooks', {
  method: 'POST',
  body: input.body,
  headers: {
    'content-type': 'application/json',
    'x-shopify-hmac-sha256': input.body_hmac,
    'x-shopify-topic': 'products/update',
    'x-shopify-shop-domain': 'demo.myshopify.com',
    'x-shopify-api-version': '2026-10',
    'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
  },
});
const webhook = await shopify.webhooks.validate({ rawBody: input.body, rawRequest: request });

// The webhook HMAC Shopify's code computes for the body (base64).
const bodyHmac = await createSHA256HMAC(input.secret, input.body, HashFormat.Base64);

console.log(JSON.stringify({ query_valid: queryValid, webhook_valid: webhook.valid, body_hmac: bodyHmac }));
