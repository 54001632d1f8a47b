import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { webPageHeaders } from './web.js';

/**
 * GET / : the landing page a newcomer opens first, in zh-CN or English (Accept-Language, or
 * ?lang=zh-CN / ?lang=en to switch): what Yunpay is and links to the wallet, the POS, the
 * dashboard, the API document and health. Served by the server itself (no web build needed), with
 * no script and its stylesheet as a file, under the same strict CSP as the apps.
 */

export type LandingLanguage = 'zh-CN' | 'en';

interface LandingText {
  title: string;
  tagline: string;
  switchLabel: string;
  links: { href: string; name: string; text: string }[];
  start: string;
}

const texts: Readonly<Record<LandingLanguage, LandingText>> = {
  'zh-CN': {
    title: '云付 Yunpay',
    tagline: '开源、可自托管的移动支付云：复式记账账本、钱包、商户收款和兼容 Stripe 的 API。',
    switchLabel: 'English',
    links: [
      { href: '/app/', name: '钱包', text: '付款码、扫码付、转账、充值和账单。' },
      { href: '/pos/', name: '收银台 (POS)', text: '商户收款：扫付款码或出示二维码。' },
      { href: '/dashboard/', name: '商户后台', text: '交易、退款、余额、API 密钥和 Webhook。' },
      {
        href: '/docs',
        name: 'API 文档',
        text: 'API 参考（含 curl 和 Stripe SDK 示例）：/v1（兼容 Stripe）、/wallet/v1 和 /admin/v1；原始 OpenAPI 3 文档在 /openapi.json。',
      },
      { href: '/readyz', name: '健康检查', text: '服务就绪状态（/healthz 为存活检查）。' },
    ],
    start: '刚开始？商户可在商户后台自助注册测试账户（真实收款由运营方激活）；演示钱包的账号显示在启动信息中。',
  },
  en: {
    title: 'Yunpay 云付',
    tagline:
      'An open-source, self-hostable mobile payment cloud: a double-entry ledger, wallets, merchant payments and a Stripe-compatible API.',
    switchLabel: '中文',
    links: [
      { href: '/app/', name: 'Wallet', text: 'Pay codes, scan to pay, transfers, top-ups and history.' },
      { href: '/pos/', name: 'POS', text: "Take payments in store: scan a customer's code or show a QR." },
      { href: '/dashboard/', name: 'Dashboard', text: 'Payments, refunds, balance, API keys and webhooks.' },
      {
        href: '/docs',
        name: 'API reference',
        text: 'With curl and Stripe SDK examples: /v1 (Stripe-compatible), /wallet/v1 and /admin/v1. The raw OpenAPI 3 document is /openapi.json.',
      },
      { href: '/readyz', name: 'Health', text: 'Readiness of this node (/healthz for liveness).' },
    ],
    start:
      "New here? Merchants sign up for a test account in the dashboard (live payments need the operator's activation); the demo wallets' sign-in is printed in the start-up banner.",
  },
};

const landingCss = `:root{color-scheme:light dark;font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;line-height:1.5}
body{margin:0 auto;max-width:44rem;padding:2rem 1.25rem}
header{display:flex;align-items:center;gap:.75rem;justify-content:space-between;flex-wrap:wrap}
h1{margin:0;font-size:1.75rem}
p.tagline{font-size:1.05rem;opacity:.85}
ul{list-style:none;padding:0;display:grid;gap:.75rem}
li a{display:block;padding:.85rem 1rem;border:1px solid #8884;border-radius:.6rem;text-decoration:none;color:inherit}
li a:hover,li a:focus-visible{border-color:#0b5cad;outline:none}
li strong{display:block;color:#0b5cad;font-size:1.05rem}
@media (prefers-color-scheme:dark){li strong{color:#6fb0ff}li a:hover,li a:focus-visible{border-color:#6fb0ff}}
footer{margin-top:1.5rem;font-size:.9rem;opacity:.8}
`;

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** ?lang= wins; otherwise the first Accept-Language entry that is Chinese or English; else English. */
export function landingLanguage(query: string | undefined, acceptLanguage: string | undefined): LandingLanguage {
  if (query === 'zh-CN' || query === 'en') return query;
  for (const part of (acceptLanguage ?? '').split(',').slice(0, 16)) {
    const tag = part.split(';')[0]?.trim().toLowerCase() ?? '';
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}

export function landingPage(language: LandingLanguage): string {
  const text = texts[language];
  const other: LandingLanguage = language === 'en' ? 'zh-CN' : 'en';
  const links = text.links
    .map(
      (link) =>
        `<li><a href="${escapeHtml(link.href)}"><strong>${escapeHtml(link.name)}</strong>${escapeHtml(link.text)}</a></li>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="${escapeHtml(text.tagline)}">
<title>${escapeHtml(text.title)}</title>
<link rel="icon" href="/app/icons/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/landing.css">
</head>
<body>
<header>
<h1>${escapeHtml(text.title)}</h1>
<a href="/?lang=${other}" lang="${other}" hreflang="${other}">${escapeHtml(text.switchLabel)}</a>
</header>
<main>
<p class="tagline">${escapeHtml(text.tagline)}</p>
<ul>
${links}
</ul>
</main>
<footer>${escapeHtml(text.start)}</footer>
</body>
</html>
`;
}

const LandingQuerySchema = Type.Object(
  { lang: Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en')])) },
  { additionalProperties: false },
);

function sendPage(reply: FastifyReply, contentType: string, body: string, vary?: string): FastifyReply {
  for (const [name, value] of Object.entries(webPageHeaders)) void reply.header(name, value);
  if (vary !== undefined) void reply.header('vary', vary);
  return reply.status(200).header('cache-control', 'no-cache').type(contentType).send(body);
}

/** Register at the root, beside webRoutes. */
export const landingRoutes: FastifyPluginAsync = async (app) => {
  app.get('/', { schema: { hide: true, querystring: LandingQuerySchema } }, async (request: FastifyRequest, reply) => {
    const { lang } = request.query as { lang?: LandingLanguage };
    const language = landingLanguage(lang, request.headers['accept-language']);
    return sendPage(reply, 'text/html; charset=utf-8', landingPage(language), 'accept-language');
  });
  app.get('/landing.css', { schema: { hide: true } }, async (_request, reply) =>
    sendPage(reply, 'text/css; charset=utf-8', landingCss),
  );
};
