import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

/** English and Simplified Chinese, as the wallet. The choice (not a secret) is kept in localStorage. */
export type Locale = 'en' | 'zh-CN';

const en = {
  'app.pos': 'Yunpay POS',
  'app.dashboard': 'Yunpay Dashboard',
  'lang.label': 'Language',
  'signin.title': 'Sign in',
  'signin.key': 'Secret API key',
  'signin.hint': 'sk_test_… or sk_live_…. It is sent once and never stored in this browser.',
  'signin.submit': 'Sign in',
  'signin.failed': 'Sign-in failed',
  signout: 'Sign out',
  'mode.test': 'Test mode',
  'mode.live': 'Live mode',
  loading: 'Loading…',
  error: 'Error',
  // POS
  'pos.amount': 'Amount',
  'pos.keypad': 'Amount keypad',
  'pos.backspace': 'Delete last digit',
  'pos.clear': 'Clear',
  'pos.scan': 'Scan customer code',
  'pos.showQr': 'Show QR',
  'pos.code': 'Customer payment code',
  'pos.codeHint': '18 digits: scan with a USB scanner or type, then Enter.',
  'pos.charge': 'Charge',
  'pos.camera': 'Use camera',
  'pos.cameraStop': 'Stop camera',
  'pos.cameraUnavailable': 'No camera available.',
  'pos.cameraVideo': 'Camera preview',
  'pos.cancel': 'Cancel',
  'pos.enterAmount': 'Key in an amount first.',
  'pos.qrAlt': 'QR code to pay {amount}',
  'pos.qrHint': 'Ask the customer to scan this code with the Yunpay wallet.',
  'pos.processing': 'Processing…',
  'pos.succeeded': 'Payment succeeded',
  'pos.declined': 'Payment declined',
  'pos.awaiting': 'Awaiting the customer’s approval',
  'pos.awaitingHint': 'The customer confirms with the PIN in the wallet app.',
  'pos.waitingScan': 'Waiting for the customer to scan',
  'pos.canceled': 'Payment canceled',
  'pos.receipt': 'Receipt',
  'pos.payment': 'Payment',
  'pos.time': 'Time',
  'pos.merchant': 'Merchant',
  'pos.newSale': 'New sale',
  'pos.errorCode': 'Error code',
  // Dashboard
  'nav.label': 'Dashboard sections',
  'nav.payments': 'Payments',
  'nav.balance': 'Balance',
  'nav.keys': 'API keys',
  'nav.webhooks': 'Webhooks',
  'nav.qr': 'Counter QR',
  'payments.title': 'Payments',
  'payments.search': 'Search (id, description, customer)',
  'payments.status': 'Status',
  'payments.any': 'Any',
  'payments.from': 'From date',
  'payments.to': 'To date',
  'payments.min': 'Minimum amount',
  'payments.max': 'Maximum amount',
  'payments.apply': 'Apply',
  'payments.loadMore': 'Load more',
  'payments.shown': 'Showing {shown} of {loaded} loaded payments.',
  'payments.more': 'More payments exist on the server: load more to search them too.',
  'payments.none': 'No payments match.',
  'payments.id': 'Payment',
  'payments.amount': 'Amount',
  'payments.created': 'Created',
  'payments.description': 'Description',
  'payments.open': 'Open',
  'detail.title': 'Payment {id}',
  'detail.back': 'Back to payments',
  'detail.timeline': 'Timeline',
  'detail.refunded': 'Refunded',
  'detail.refund': 'Refund',
  'detail.refundAmount': 'Refund amount',
  'detail.refundHint': 'At most {amount}. Leave as is for the full remainder.',
  'detail.refundDone': 'Refund {id} created.',
  'detail.refunds': 'Refunds',
  'tl.created': 'Created',
  'tl.requires_action': 'Waiting for the customer',
  'tl.succeeded': 'Succeeded',
  'tl.canceled': 'Canceled',
  'tl.failed': 'Failed',
  'tl.charge': 'Charge {id}',
  'tl.refund': 'Refund {id}: {amount}',
  'tl.event': 'Event {type}',
  'balance.title': 'Balance',
  'balance.available': 'Available',
  'balance.pending': 'Pending',
  'balance.chart': 'Daily volume and fees, last {days} days',
  'balance.chartLabel': 'Bar chart of daily volume and fees in {currency}; the table below has the same numbers.',
  'balance.day': 'Day (UTC)',
  'balance.volume': 'Volume',
  'balance.fees': 'Fees',
  'balance.refunded': 'Refunded',
  'balance.net': 'Net',
  'balance.none': 'No payments in this period.',
  'balance.currency': 'Currency',
  'keys.title': 'API keys',
  'keys.type': 'Type',
  'keys.key': 'Key',
  'keys.expires': 'Expires',
  'keys.never': 'Never',
  'keys.roll': 'Roll secret key',
  'keys.grace': 'Old key stops working',
  'keys.graceNow': 'Now',
  'keys.grace1h': 'In 1 hour',
  'keys.grace24h': 'In 24 hours',
  'keys.confirm': 'Roll the secret key? Integrations using it must be updated.',
  'keys.newSecret': 'New secret key',
  'keys.warning': 'Copy it now: it is shown only once.',
  'keys.copy': 'Copy',
  'keys.copied': 'Copied',
  'webhooks.title': 'Webhook endpoints',
  'webhooks.url': 'Endpoint URL',
  'webhooks.events': 'Events',
  'webhooks.eventsHint': '* for every event, or a comma-separated list (payment_intent.succeeded, charge.refunded …)',
  'webhooks.create': 'Add endpoint',
  'webhooks.secret': 'Signing secret (shown once)',
  'webhooks.delete': 'Delete',
  'webhooks.attempts': 'Attempts',
  'webhooks.attemptsOf': 'Delivery attempts of {id}',
  'webhooks.none': 'No endpoints yet.',
  'webhooks.noAttempts': 'No attempts yet.',
  'webhooks.event': 'Event',
  'webhooks.status': 'Status',
  'webhooks.resend': 'Resend',
  'webhooks.resent': 'Queued again: next attempt {time}.',
  'webhooks.refresh': 'Refresh',
  'qr.title': 'Counter QR code',
  'qr.hint': 'Print it for the counter: the customer scans it and types the amount.',
  'qr.alt': 'Static counter QR code of {name}',
  'qr.png': 'Download PNG',
  'qr.svg': 'Download SVG',
} as const;

export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  'app.pos': '云付收银台',
  'app.dashboard': '云付商户后台',
  'lang.label': '语言',
  'signin.title': '登录',
  'signin.key': '密钥（Secret API key）',
  'signin.hint': 'sk_test_… 或 sk_live_…。只发送一次，不会保存在此浏览器中。',
  'signin.submit': '登录',
  'signin.failed': '登录失败',
  signout: '退出登录',
  'mode.test': '测试模式',
  'mode.live': '正式模式',
  loading: '加载中…',
  error: '错误',
  'pos.amount': '金额',
  'pos.keypad': '金额键盘',
  'pos.backspace': '删除最后一位',
  'pos.clear': '清除',
  'pos.scan': '扫描顾客付款码',
  'pos.showQr': '出示收款码',
  'pos.code': '顾客付款码',
  'pos.codeHint': '18 位数字：用扫码枪扫描或手动输入，然后按回车。',
  'pos.charge': '收款',
  'pos.camera': '使用摄像头',
  'pos.cameraStop': '关闭摄像头',
  'pos.cameraUnavailable': '没有可用的摄像头。',
  'pos.cameraVideo': '摄像头画面',
  'pos.cancel': '取消',
  'pos.enterAmount': '请先输入金额。',
  'pos.qrAlt': '支付 {amount} 的二维码',
  'pos.qrHint': '请顾客用云付钱包扫描此码。',
  'pos.processing': '处理中…',
  'pos.succeeded': '支付成功',
  'pos.declined': '支付被拒绝',
  'pos.awaiting': '等待顾客确认',
  'pos.awaitingHint': '顾客在钱包中输入支付密码确认。',
  'pos.waitingScan': '等待顾客扫码',
  'pos.canceled': '支付已取消',
  'pos.receipt': '小票',
  'pos.payment': '支付单',
  'pos.time': '时间',
  'pos.merchant': '商户',
  'pos.newSale': '新的收款',
  'pos.errorCode': '错误代码',
  'nav.label': '后台栏目',
  'nav.payments': '支付',
  'nav.balance': '余额',
  'nav.keys': 'API 密钥',
  'nav.webhooks': 'Webhook',
  'nav.qr': '收款码',
  'payments.title': '支付',
  'payments.search': '搜索（编号、描述、客户）',
  'payments.status': '状态',
  'payments.any': '全部',
  'payments.from': '开始日期',
  'payments.to': '结束日期',
  'payments.min': '最小金额',
  'payments.max': '最大金额',
  'payments.apply': '应用',
  'payments.loadMore': '加载更多',
  'payments.shown': '已加载 {loaded} 笔，显示 {shown} 笔。',
  'payments.more': '服务器上还有更多支付：加载更多后才能一并搜索。',
  'payments.none': '没有符合条件的支付。',
  'payments.id': '支付单',
  'payments.amount': '金额',
  'payments.created': '创建时间',
  'payments.description': '描述',
  'payments.open': '查看',
  'detail.title': '支付单 {id}',
  'detail.back': '返回支付列表',
  'detail.timeline': '时间线',
  'detail.refunded': '已退款',
  'detail.refund': '退款',
  'detail.refundAmount': '退款金额',
  'detail.refundHint': '最多 {amount}。不修改则退还全部剩余金额。',
  'detail.refundDone': '已创建退款 {id}。',
  'detail.refunds': '退款',
  'tl.created': '已创建',
  'tl.requires_action': '等待顾客',
  'tl.succeeded': '成功',
  'tl.canceled': '已取消',
  'tl.failed': '失败',
  'tl.charge': '扣款 {id}',
  'tl.refund': '退款 {id}：{amount}',
  'tl.event': '事件 {type}',
  'balance.title': '余额',
  'balance.available': '可用',
  'balance.pending': '待结算',
  'balance.chart': '最近 {days} 天每日交易额与手续费',
  'balance.chartLabel': '{currency} 每日交易额与手续费柱状图；下表列出相同数据。',
  'balance.day': '日期（UTC）',
  'balance.volume': '交易额',
  'balance.fees': '手续费',
  'balance.refunded': '退款',
  'balance.net': '净额',
  'balance.none': '此期间没有交易。',
  'balance.currency': '币种',
  'keys.title': 'API 密钥',
  'keys.type': '类型',
  'keys.key': '密钥',
  'keys.expires': '失效时间',
  'keys.never': '永不',
  'keys.roll': '轮换密钥',
  'keys.grace': '旧密钥失效时间',
  'keys.graceNow': '立即',
  'keys.grace1h': '1 小时后',
  'keys.grace24h': '24 小时后',
  'keys.confirm': '确定轮换密钥？使用旧密钥的集成需要更新。',
  'keys.newSecret': '新的密钥',
  'keys.warning': '请立即复制：它只显示这一次。',
  'keys.copy': '复制',
  'keys.copied': '已复制',
  'webhooks.title': 'Webhook 端点',
  'webhooks.url': '端点 URL',
  'webhooks.events': '事件',
  'webhooks.eventsHint': '* 表示全部事件，或用逗号分隔（payment_intent.succeeded, charge.refunded …）',
  'webhooks.create': '添加端点',
  'webhooks.secret': '签名密钥（只显示一次）',
  'webhooks.delete': '删除',
  'webhooks.attempts': '投递记录',
  'webhooks.attemptsOf': '{id} 的投递记录',
  'webhooks.none': '还没有端点。',
  'webhooks.noAttempts': '还没有投递记录。',
  'webhooks.event': '事件',
  'webhooks.status': '状态',
  'webhooks.resend': '重新发送',
  'webhooks.resent': '已重新排队：下次尝试 {time}。',
  'webhooks.refresh': '刷新',
  'qr.title': '收款码',
  'qr.hint': '打印后放在柜台：顾客扫码并输入金额。',
  'qr.alt': '{name} 的静态收款码',
  'qr.png': '下载 PNG',
  'qr.svg': '下载 SVG',
};

const catalogs: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zh };

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

interface I18n {
  locale: Locale;
  setLocale: (locale: Locale) => void;
  t: Translate;
}

const I18nContext = createContext<I18n | null>(null);
const storageKey = 'yunpay.merchant.locale';

function initialLocale(): Locale {
  const stored = window.localStorage.getItem(storageKey);
  if (stored === 'en' || stored === 'zh-CN') return stored;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const value = useMemo<I18n>(
    () => ({
      locale,
      setLocale: (next) => {
        window.localStorage.setItem(storageKey, next);
        setLocaleState(next);
      },
      t: (key, values = {}) => {
        const text = catalogs[locale][key];
        return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
          values[name] === undefined ? whole : String(values[name]),
        );
      },
    }),
    [locale],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const i18n = useContext(I18nContext);
  if (i18n === null) throw new Error('useI18n outside I18nProvider');
  return i18n;
}

export function LanguageSwitch() {
  const { locale, setLocale, t } = useI18n();
  return (
    <label className="lang-switch">
      <span>{t('lang.label')}</span>
      <select value={locale} onChange={(event) => setLocale(event.target.value === 'zh-CN' ? 'zh-CN' : 'en')}>
        <option value="en">English</option>
        <option value="zh-CN">简体中文</option>
      </select>
    </label>
  );
}
