import type { AccountStatus, DisabledReason, Role } from '#db/models.ts'
import type { OrderStep } from '#temporal/messages.ts'
import type { AccountFacts, Audience, CardFacts, DecisionStatus, LedgerLine, LinkFailure, Messages, PlanFacts, ReceiptFacts } from './en.ts'
import type { Format } from './format.ts'
import { html, lines } from './html.ts'

export function fa(f: Format): Messages {
  const roleName = (role: Role) => ({ admin: 'مدیر', agent: 'نماینده', customer: 'مشتری' })[role]
  const statusName = (status: AccountStatus) =>
    ({ active: '🟢 فعال', disabled: '⛔️ غیرفعال', limited: '🟠 حجم تمام شده', expired: '⚪️ منقضی', deleted: '🗑 حذف شده' })[status]
  const reasonName = (reason: DisabledReason) =>
    ({ negative_credit: 'اعتبار نماینده منفی است', admin: 'توسط مدیر', expired: 'منقضی شده', limited: 'حجم تمام شده' })[reason]
  const traffic = (limit: string) => (BigInt(limit) === 0n ? 'حجم نامحدود' : `${f.gb(limit)} گیگابایت`)
  const decisionWord = (s: DecisionStatus) => ({ APPROVED: 'تأیید شد', REJECTED: 'رد شد', EXPIRED: 'منقضی شد' })[s]
  const audienceName = (a: Audience) => ({ all: 'همه', customers: 'همه مشتریان', agents: 'همه نمایندگان' })[a]

  return {
    btnBuy: '🛒 خرید اکانت',
    btnAccounts: '📱 اکانت‌های من',
    btnWallet: '👛 کیف پول',
    btnLanguage: '🌐 زبان / Language',
    btnHelp: '❓ راهنما',
    btnMenu: '🏠 منو',
    btnBack: '⬅️ بازگشت',
    btnCancel: '✖️ انصراف',
    btnLangFa: '🇮🇷 فارسی',
    btnLangEn: '🇬🇧 English',
    btnLocation: (name: string) => `📍 ${name}`,
    btnPlan: (name: string, price: string) => `${name} · ${f.money(price)}`,
    btnPayWallet: (spendable: string) => `👛 پرداخت از کیف پول (موجودی ${f.money(spendable)})`,
    btnPayMethod: (title: string) => `🧾 ${title} (ارسال رسید)`,
    btnResendReceipt: '🧾 ارسال رسید جدید',
    btnAccount: (username: string, status: AccountStatus) => `${statusName(status).split(' ')[0]} ${username}`,
    btnShowLink: '🔳 لینک و QR',
    btnRenew: '🔄 تمدید',
    btnDelete: '🗑 حذف و بازپرداخت',
    btnConfirmDelete: '✅ بله، حذف شود',
    btnHistory: '📜 تاریخچه',
    btnTopup: '➕ افزایش موجودی',
    btnOlder: '⏪ قدیمی‌تر',
    btnApprove: '✅ تأیید',
    btnReject: '❌ رد',
    btnAudience: (a: Audience) => ({ all: '👥 همه', customers: '🙂 مشتریان', agents: '🏪 نمایندگان' })[a],
    btnSendBroadcast: '📣 ارسال',

    welcomeNew: (name: string) =>
      lines(
        html`👋 ${name} عزیز، خوش آمدید!`,
        html`حساب شما ساخته شد. از منوی زیر اکانت VPN بخرید و اکانت‌ها و کیف پول خود را مدیریت کنید.`,
        html`در وب‌سایت حساب دارید؟ کد صفحه پروفایل را با <code>/link CODE</code> بفرستید.`,
      ),
    welcomeBack: (name: string, role: Role) => html`👋 ${name} (${roleName(role)})، خوش برگشتید. چه کاری انجام دهیم؟`,
    menu: html`چه کاری انجام دهیم؟`,
    help: (isAdmin: boolean) =>
      lines(
        html`<b>دستورها</b>`,
        html`/buy – خرید اکانت جدید`,
        html`/accounts – اکانت‌های شما: مصرف، لینک، تمدید، حذف`,
        html`/wallet – موجودی، تاریخچه، افزایش موجودی`,
        html`/topup – افزایش موجودی با ارسال رسید`,
        html`/link CODE – اتصال این تلگرام به حساب وب‌سایت`,
        html`/language – فارسی / English`,
        html`/cancel – لغو کار جاری`,
        html`/help – همین راهنما`,
        isAdmin && html`\n<b>مدیریت</b>\n/pending – رسیدهای منتظر بررسی\n/broadcast – پیام همگانی به مشتریان یا نمایندگان`,
      ),
    unknown: html`متوجه نشدم. از منوی زیر استفاده کنید یا /help را بفرستید.`,
    rateLimited: html`⏳ پیام‌ها بیش از حد زیاد است. چند ثانیه صبر کنید و دوباره امتحان کنید.`,
    rateLimitedShort: '⏳ کمی صبر کنید',
    error: html`⚠️ مشکلی پیش آمد. لطفاً کمی بعد دوباره امتحان کنید.`,
    serviceUnavailable: html`⚠️ سرویس در حال حاضر مشغول است. لطفاً یک دقیقه دیگر امتحان کنید.`,
    needStart: html`لطفاً ابتدا /start را بفرستید.`,
    userDisabled: html`⛔️ حساب شما غیرفعال است. لطفاً با پشتیبانی تماس بگیرید.`,
    cancelled: html`لغو شد.`,
    nothingToCancel: html`کاری برای لغو وجود ندارد.`,
    staleButton: 'این دکمه منقضی شده است؛ منو را دوباره باز کنید',
    privateOnly: html`لطفاً این کار را در گفت‌وگوی خصوصی با ربات انجام دهید.`,

    chooseLanguage: html`زبان خود را انتخاب کنید / Choose your language`,
    languageSaved: html`✅ زبان فارسی انتخاب شد.`,

    linkAsk: html`کد ۸ حرفی صفحه پروفایل وب‌سایت را بفرستید، مثلاً <code>/link ABCD-EFGH</code>.`,
    linkOk: (username: string, role: Role) => html`✅ این حساب تلگرام به <b>${username}</b> (${roleName(role)}) متصل شد.`,
    linkAlready: (username: string) => html`این حساب تلگرام از قبل به <b>${username}</b> متصل است.`,
    linkFailed: (reason: LinkFailure) =>
      ({
        invalid: html`❌ این کد معتبر نیست. آن را در صفحه پروفایل بررسی کنید و دوباره بفرستید.`,
        expired: html`⌛️ این کد منقضی شده است. در صفحه پروفایل کد جدید بسازید.`,
        used: html`❌ این کد قبلاً استفاده شده است. در صفحه پروفایل کد جدید بسازید.`,
        disabled: html`⛔️ آن حساب وب‌سایت غیرفعال است.`,
        telegram_in_use: html`❌ این حساب تلگرام سفارش یا پرداخت دارد و نمی‌تواند به حساب دیگری منتقل شود. لطفاً با پشتیبانی تماس بگیرید.`,
      })[reason],

    buyChooseLocation: html`🛒 <b>خرید</b>\nلوکیشن را انتخاب کنید:`,
    buyNoLocations: html`در حال حاضر چیزی برای فروش نیست. لطفاً بعداً سر بزنید.`,
    buyChoosePlan: (location: string) => html`📍 ${location}\nپلن را انتخاب کنید:`,
    buyNoPlans: (location: string) => html`در حال حاضر پلنی برای ${location} در فروش نیست.`,
    buyPlanSummary: (plan: PlanFacts, location: string) =>
      lines(
        html`<b>${plan.name}</b> · 📍 ${location}`,
        html`⏳ ${f.number(plan.days)} روز · 📶 ${traffic(plan.dataLimitBytes)}`,
        html`💰 قیمت: <b>${f.money(plan.price)}</b>`,
        html`\nچطور پرداخت می‌کنید؟`,
      ),
    buyNoPaymentMethods: html`در حال حاضر روش پرداختی فعال نیست؛ لطفاً بعداً امتحان کنید یا با پشتیبانی تماس بگیرید.`,
    orderPlaced: (orderId: number) => html`🧾 سفارش #${orderId} ثبت شد.`,
    orderCancelled: (orderId: number) => html`✖️ سفارش #${orderId} لغو شد؛ مبلغی برداشت نشد.`,
    orderUnderReview: (orderId: number) => html`🧾 رسید سفارش #${orderId} در حال بررسی است و دیگر نمی‌توان آن را از اینجا لغو کرد.`,
    orderCancelledRefunded: (orderId: number, refunded: string) => html`✖️ سفارش #${orderId} لغو شد؛ ${f.money(refunded)} به کیف پول شما برگشت.`,
    orderCancelling: (orderId: number) => html`✖️ سفارش #${orderId} در حال لغو است؛ هر مبلغی پرداخت شده به کیف پول شما برمی‌گردد.`,
    orderCancelTooLate: (orderId: number, state: 'delivered' | 'refunded' | 'failed') =>
      html`برای لغو سفارش #${orderId} دیر است: ${({ delivered: 'تحویل شده است', refunded: 'بازپرداخت شده است', failed: 'پیش‌تر ناموفق شده است' })[state]}.`,
    orderCancelNoAnswer: (orderId: number) => html`⏳ سفارش #${orderId} به موقع پاسخ نداد، پس لغو آن تأیید نشده است. پیش از تلاش دوباره سفارش‌هایتان را ببینید.`,
    cardInstructions: (c: CardFacts) =>
      lines(
        c.orderId !== null ? html`🧾 <b>سفارش #${c.orderId}</b> – پرداخت با ${c.method}` : html`➕ <b>افزایش موجودی</b> – پرداخت با ${c.method}`,
        html`\nلطفاً <b>دقیقاً ${f.money(c.amount)}</b> واریز کنید`,
        c.cardNumber && html`💳 شماره کارت: <code>${c.cardNumber}</code>`,
        c.destination && html`🏦 مقصد: <code>${c.destination}</code>`,
        c.holder && html`👤 به نام: <b>${c.holder}</b>`,
        c.bank && html`🏛 بانک: ${c.bank}`,
        html`\nسپس رسید را همین‌جا به صورت <b>عکس</b> یا فایل <b>PDF</b> بفرستید.`,
      ),
    receiptTextRefused: html`📎 لطفاً رسید را به صورت عکس یا فایل PDF بفرستید. متن به عنوان رسید پذیرفته نمی‌شود. (/cancel برای لغو)`,
    receiptBadType: html`❌ رسید باید عکس (JPEG، PNG، WebP) یا فایل PDF باشد.`,
    receiptTooBig: (maxKb: number) => html`❌ فایل بیش از حد بزرگ است؛ حداکثر ${f.number(maxKb)} کیلوبایت مجاز است.`,
    receiptDownloadFailed: html`⚠️ دریافت فایل از تلگرام ممکن نشد. لطفاً دوباره بفرستید.`,
    receiptSubmitted: (paymentId: number) => html`✅ رسید دریافت شد (پرداخت #${paymentId}). به‌زودی بررسی می‌شود و نتیجه همین‌جا اعلام می‌شود.`,
    paymentRefused: (code: string, fallback: string) =>
      ({
        DUPLICATE_RECEIPT: html`❌ این رسید قبلاً ارسال شده است.`,
        DAILY_COUNT_LIMIT: html`❌ سقف روزانه این روش پرداخت پر شده است. روش دیگری انتخاب کنید یا فردا امتحان کنید.`,
        DAILY_AMOUNT_LIMIT: html`❌ سقف مبلغ روزانه این روش پرداخت پر شده است. روش دیگری انتخاب کنید یا فردا امتحان کنید.`,
        METHOD_INACTIVE: html`❌ این روش پرداخت در حال حاضر فعال نیست.`,
        ORDER_NOT_PAYABLE: html`❌ این سفارش دیگر منتظر پرداخت نیست.`,
        AMOUNT_TOO_LOW: html`❌ مبلغ برای این سفارش کافی نیست.`,
        RECEIPT_INVALID: html`❌ رسید باید عکس (JPEG، PNG، WebP) یا فایل PDF باشد.`,
      })[code] ?? html`❌ ${fallback}`,
    orderRefused: (code: string, fallback: string) =>
      ({
        INSUFFICIENT_CREDIT: html`❌ موجودی کیف پول برای این پلن کافی نیست. موجودی را افزایش دهید یا با رسید پرداخت کنید.`,
        NEGATIVE_CREDIT: html`❌ تا وقتی اعتبار شما منفی است سفارش جدید ممکن نیست. لطفاً ابتدا موجودی را افزایش دهید.`,
        PLAN_INACTIVE: html`❌ این پلن دیگر در فروش نیست.`,
        PLAN_NOT_FOUND: html`❌ این پلن دیگر در فروش نیست.`,
        LOCATION_NOT_ALLOWED: html`❌ این پلن در این لوکیشن فروخته نمی‌شود.`,
        MAX_ACCOUNTS_REACHED: html`❌ به سقف اکانت‌های فعال پروفایل نمایندگی خود رسیده‌اید.`,
        IDEMPOTENCY_KEY_REUSED: html`❌ این دکمه‌ها پیش‌تر برای سفارش دیگری به کار رفته‌اند. برای سفارش تازه، منو را دوباره باز کنید.`,
        USER_DISABLED: html`⛔️ حساب شما غیرفعال است.`,
        ACCOUNT_NOT_FOUND: html`❌ این اکانت متعلق به شما نیست.`,
      })[code] ?? html`❌ ${fallback}`,
    progress: (orderId: number, step: OrderStep, extra: { attempt: number; lastError: string | null }) => {
      const head = html`🧾 <b>سفارش #${orderId}</b>`
      const body = {
        queued: html`⏳ دریافت شد، در حال شروع…`,
        awaiting_payment: html`⏳ در انتظار بررسی رسید توسط مدیر…`,
        paying: html`💳 در حال برداشت مبلغ…`,
        provisioning: extra.attempt > 1 ? html`⚙️ در حال ساخت اکانت (تلاش ${f.number(extra.attempt)})…` : html`⚙️ در حال ساخت اکانت…`,
        delivering: html`📦 تقریباً آماده است…`,
        delivered: html`✅ تحویل شد!`,
        compensating: html`↩️ کار تمام نشد؛ در حال برگرداندن و بازپرداخت…`,
        refunded: html`↩️ کار تمام نشد؛ مبلغ به کیف پول شما برگشت.`,
        failed: html`❌ سفارش انجام نشد.`,
        cancelled: html`✖️ سفارش لغو شد.`,
      }[step]
      return lines(head, body)
    },
    receiptRejected: (orderId: number, note: string | null) =>
      lines(html`🧾 <b>سفارش #${orderId}</b>`, html`❌ رسید شما رد شد.`, note && html`دلیل: ${note}`, html`می‌توانید برای همین سفارش رسید جدید بفرستید.`),
    receiptExpired: (orderId: number) => lines(html`🧾 <b>سفارش #${orderId}</b>`, html`⌛️ رسید شما به موقع بررسی نشد. می‌توانید برای همین سفارش رسید جدید بفرستید.`),
    delivered: (username: string, link: string | null) =>
      lines(
        html`✅ <b>اکانت ${username} آماده است.</b>`,
        link && html`\n🔗 لینک اشتراک:\n<code>${link}</code>`,
        html`\n<b>راهنمای اتصال</b>`,
        html`۱. برنامه v2rayNG (اندروید)، Streisand یا V2Box (آیفون) یا Hiddify / v2rayN (کامپیوتر) را نصب کنید.`,
        html`۲. لینک بالا را کپی کنید (یا QR را اسکن کنید) و به عنوان subscription در برنامه اضافه کنید.`,
        html`۳. subscription را به‌روز کنید و وصل شوید.`,
      ),

    accountsEmpty: html`هنوز اکانتی ندارید. برای خرید «خرید اکانت» را بزنید.`,
    accountsTitle: (count: number) => html`📱 <b>اکانت‌های شما</b> (${f.number(count)})\nیکی را انتخاب کنید:`,
    accountCard: (a: AccountFacts) =>
      lines(
        html`📱 <b>${a.username}</b> · ${a.plan}`,
        html`📍 ${a.location}`,
        html`وضعیت: ${statusName(a.status)}${a.status === 'disabled' && a.disabledReason ? ` (${reasonName(a.disabledReason)})` : ''}`,
        BigInt(a.limitBytes) === 0n
          ? html`📶 مصرف ${f.gb(a.usedBytes)} گیگابایت از نامحدود`
          : html`📶 مصرف ${f.gb(a.usedBytes)} از ${f.gb(a.limitBytes)} گیگابایت`,
        a.expiresAt
          ? html`⏳ ${a.daysLeft !== null && a.daysLeft > 0 ? `${f.number(a.daysLeft)} روز مانده` : 'منقضی شده'} (تا ${f.date(a.expiresAt)})`
          : html`⏳ بدون تاریخ انقضا`,
      ),
    accountNotFound: html`این اکانت پیدا نشد.`,
    accountNoLink: html`این اکانت هنوز لینک اشتراک ندارد.`,
    qrCaption: (username: string, link: string) => html`🔳 <b>${username}</b>\n<code>${link}</code>`,
    renewChoosePlan: (username: string) => html`🔄 تمدید <b>${username}</b>\nروزها و حجم باقی‌مانده حفظ می‌شود و پلن جدید به آن اضافه می‌شود. پلن را انتخاب کنید:`,
    renewSummary: (username: string, plan: PlanFacts) =>
      lines(
        html`🔄 تمدید <b>${username}</b> با <b>${plan.name}</b>`,
        html`+${f.number(plan.days)} روز · +${traffic(plan.dataLimitBytes)} (روی باقی‌مانده فعلی)`,
        html`💰 قیمت: <b>${f.money(plan.price)}</b>`,
        html`\nچطور پرداخت می‌کنید؟`,
      ),
    renewNotPossible: html`این اکانت قابل تمدید نیست (حذف شده است).`,
    deleteQuote: (username: string, amount: string) =>
      lines(
        html`🗑 <b>${username}</b> حذف شود؟`,
        BigInt(amount) > 0n ? html`<b>${f.money(amount)}</b> به کیف پول شما برمی‌گردد (به نسبت روزها و حجم مصرف‌نشده).` : html`برای این اکانت مبلغی قابل بازپرداخت نیست.`,
        html`اکانت بلافاصله از کار می‌افتد و این کار قابل برگشت نیست.`,
      ),
    deleteNotAllowed: html`⛔️ پروفایل نمایندگی شما اجازه حذف اکانت برای بازپرداخت را نمی‌دهد. لطفاً با پشتیبانی تماس بگیرید.`,
    deleteStarted: (username: string) => html`🗑 در حال حذف <b>${username}</b>…`,
    deleteDone: (username: string, amount: string) => html`✅ <b>${username}</b> حذف شد و ${f.money(amount)} به کیف پول شما برگشت.`,
    deleteFailed: (username: string) => html`⚠️ <b>${username}</b> هنوز حذف نشده است؛ دوباره تلاش می‌شود و تا حذف نشود مبلغی برنمی‌گردد.`,
    deleteInProgress: (username: string) => html`🗑 <b>${username}</b> در حال حذف است؛ بازپرداخت پس از تأیید پنل انجام می‌شود.`,

    walletSummary: (w: { confirmed: string; pending: string; usable: string; spendable: string; role: Role; negativeSince: Date | null; deadline: Date | null }) =>
      lines(
        html`👛 <b>کیف پول</b>`,
        html`تأییدشده: <b>${f.money(w.confirmed)}</b>`,
        html`در انتظار بررسی: ${f.money(w.pending)}`,
        w.role === 'agent' ? html`اعتبار قابل استفاده: <b>${f.money(w.usable)}</b>` : html`قابل خرج: <b>${f.money(w.spendable)}</b>`,
        w.negativeSince &&
          html`\n⚠️ اعتبار شما از ${f.dateTime(w.negativeSince)} منفی است. سفارش جدید ممکن نیست${w.deadline ? ` و اگر تا ${f.dateTime(w.deadline)} منفی بماند، اکانت‌های شما تا افزایش موجودی غیرفعال می‌شوند` : ''}.`,
      ),
    historyTitle: html`📜 <b>تاریخچه کیف پول</b>`,
    historyEmpty: html`هنوز تراکنشی ندارید.`,
    historyLine: (e: LedgerLine) => {
      const names: Record<string, string> = {
        CHARGE_PENDING: 'ارسال رسید',
        CHARGE_APPROVED: 'تأیید رسید',
        CHARGE_REJECTED: 'رد رسید',
        CHARGE_EXPIRED: 'انقضای رسید',
        CHARGE_MANUAL: 'اصلاح دستی',
        ORDER_DEBIT: 'سفارش',
        ORDER_REFUND: 'بازپرداخت',
      }
      const delta = BigInt(e.confirmedDelta) !== 0n ? BigInt(e.confirmedDelta) : BigInt(e.pendingDelta)
      const sign = delta > 0n ? '+' : ''
      const pending = BigInt(e.confirmedDelta) === 0n && BigInt(e.pendingDelta) !== 0n ? ' (در انتظار)' : ''
      return html`${f.dateTime(e.at)} · ${names[e.type] ?? e.type}: ${sign}${f.money(delta)}${pending}${e.note ? ` – ${e.note}` : ''}`
    },
    topupChooseMethod: html`➕ <b>افزایش موجودی</b>\nروش پرداخت را انتخاب کنید:`,
    topupNoMethods: html`در حال حاضر روش پرداختی فعال نیست. لطفاً بعداً امتحان کنید.`,
    topupAskAmount: (method: string) => html`➕ افزایش موجودی با ${method}\nچه مبلغی؟ مبلغ را به عدد بفرستید، مثلاً <code>500000</code>.`,
    topupAmountInvalid: html`❌ مبلغ را به صورت عدد صحیح بزرگ‌تر از صفر بفرستید، مثلاً <code>500000</code>.`,

    notAdmin: 'فقط مدیران می‌توانند این کار را انجام دهند',
    notAdminText: html`⛔️ فقط مدیران می‌توانند این کار را انجام دهند.`,
    receiptCaption: (r: ReceiptFacts) =>
      lines(
        html`🧾 <b>پرداخت #${r.paymentId}</b>`,
        html`👤 ${r.payer} (${roleName(r.payerRole)})`,
        html`💰 ${f.money(r.amount)}`,
        html`💳 ${r.method}`,
        r.orderId !== null ? html`🛒 برای سفارش #${r.orderId}` : html`➕ افزایش موجودی`,
        html`🕒 ${f.dateTime(r.at)}`,
      ),
    decisionLine: (status: DecisionStatus, by: string | null, at: Date | null, note: string | null) =>
      lines(
        status === 'EXPIRED'
          ? html`⌛️ بدون تصمیم منقضی شد${at ? ` در ${f.dateTime(at)}` : ''}`
          : html`${status === 'APPROVED' ? '✅ تأیید' : '❌ رد'} توسط ${by ?? 'درگاه'}${at ? ` در ${f.dateTime(at)}` : ''}`,
        note && html`توضیح: ${note}`,
      ),
    decisionDone: (status: DecisionStatus) => `${status === 'APPROVED' ? '✅' : '❌'} پرداخت ${decisionWord(status)}`,
    decisionAccepted: 'تصمیم ثبت شد و در حال اعمال است',
    decisionNoAnswer: 'گردش‌کار پرداخت به موقع پاسخ نداد، پس تصمیم تأیید نشده است؛ پیش از تصمیم دوباره پرداخت را دوباره ببینید',
    alreadyDecided: (status: DecisionStatus, by: string | null, at: Date | null) =>
      status === 'EXPIRED' ? `قبلاً منقضی شده${at ? ` در ${f.dateTime(at)}` : ''}` : `قبلاً توسط ${by ?? 'درگاه'}${at ? ` در ${f.dateTime(at)}` : ''} ${decisionWord(status)}`,
    paymentNotFound: 'این پرداخت وجود ندارد',
    paidOnline: 'این پرداخت آنلاین است و درگاه آن را تأیید می‌کند، نه مدیر',
    askRejectReason: (paymentId: number) => html`❌ رد پرداخت #${paymentId}. دلیل را در یک پیام بفرستید؛ برای پرداخت‌کننده ارسال می‌شود. (/cancel برای لغو)`,
    rejectReasonInvalid: html`دلیل را به صورت متن ساده (بدون نویسهٔ کنترلی) و حداکثر ۳۰۰ حرف بفرستید. (/cancel برای لغو)`,
    pendingNone: html`رسیدی در انتظار بررسی نیست.`,
    pendingTitle: (count: number) => html`🧾 <b>${f.number(count)} رسید در انتظار بررسی</b>`,
    broadcastChooseAudience: html`📣 <b>پیام همگانی</b>\nبرای چه کسانی ارسال شود؟`,
    broadcastAskText: (a: Audience, count: number) => html`📣 برای ${audienceName(a)} (${f.number(count)} نفر با تلگرام).\nاکنون متن پیام را بفرستید. (/cancel برای لغو)`,
    broadcastTextInvalid: html`پیام را به صورت متن ساده (بدون نویسهٔ کنترلی) و حداکثر ۴۰۰۰ حرف بفرستید. (/cancel برای لغو)`,
    broadcastConfirm: (a: Audience, count: number, text: string) => html`📣 این پیام برای ${audienceName(a)} (${f.number(count)} نفر) ارسال شود؟\n\n${text}`,
    broadcastStarted: (id: number, count: number) => html`📣 پیام همگانی #${id} شروع شد: ${f.number(count)} گیرنده. پس از پایان گزارش می‌گیرید.`,
    broadcastReport: (id: number, delivered: number, failed: number, total: number) =>
      html`📣 پیام همگانی #${id} تمام شد: ${f.number(delivered)} ارسال شد، ${f.number(failed)} ناموفق، از ${f.number(total)}.`,
    broadcastEmpty: html`در این گروه کسی تلگرام خود را متصل نکرده است.`,
  }
}

