import type { Api } from 'grammy'
import type { BotCommand } from 'grammy/types'

/** The command menu Telegram shows next to the text box, per language; Persian is the default. */
export const BOT_COMMANDS: Record<'fa' | 'en', BotCommand[]> = {
  fa: [
    { command: 'start', description: 'شروع و منوی اصلی' },
    { command: 'buy', description: 'خرید اکانت' },
    { command: 'accounts', description: 'اکانت‌های من' },
    { command: 'wallet', description: 'کیف پول' },
    { command: 'topup', description: 'افزایش موجودی' },
    { command: 'link', description: 'اتصال به حساب وب‌سایت' },
    { command: 'language', description: 'زبان / Language' },
    { command: 'cancel', description: 'لغو کار جاری' },
    { command: 'help', description: 'راهنما' },
  ],
  en: [
    { command: 'start', description: 'Start and main menu' },
    { command: 'buy', description: 'Buy an account' },
    { command: 'accounts', description: 'My accounts' },
    { command: 'wallet', description: 'Wallet' },
    { command: 'topup', description: 'Top up the wallet' },
    { command: 'link', description: 'Link to your web account' },
    { command: 'language', description: 'زبان / Language' },
    { command: 'cancel', description: 'Stop what you are doing' },
    { command: 'help', description: 'Help' },
  ],
}

/** Commands admins get in addition, shown in the admin chats. */
export const ADMIN_COMMANDS: Record<'fa' | 'en', BotCommand[]> = {
  fa: [
    { command: 'pending', description: 'رسیدهای منتظر بررسی' },
    { command: 'broadcast', description: 'پیام همگانی' },
    { command: 'cancel', description: 'لغو کار جاری' },
    { command: 'help', description: 'راهنما' },
  ],
  en: [
    { command: 'pending', description: 'Receipts waiting for a decision' },
    { command: 'broadcast', description: 'Broadcast a message' },
    { command: 'cancel', description: 'Stop what you are doing' },
    { command: 'help', description: 'Help' },
  ],
}

/** Registers the command menus: Persian by default, English for English-speaking clients, and the admin commands added in admin chats. */
export async function registerCommands(api: Api, adminChatIds: string[], defaultLocale: 'fa' | 'en'): Promise<void> {
  const other = defaultLocale === 'fa' ? 'en' : 'fa'
  await api.setMyCommands(BOT_COMMANDS[defaultLocale])
  await api.setMyCommands(BOT_COMMANDS[other], { language_code: other })
  const names = new Set(ADMIN_COMMANDS[defaultLocale].map((c) => c.command))
  const forAdmins = [...BOT_COMMANDS[defaultLocale].filter((c) => !names.has(c.command)), ...ADMIN_COMMANDS[defaultLocale]]
  for (const chatId of adminChatIds) {
    await api.setMyCommands(forAdmins, { scope: { type: 'chat', chat_id: Number(chatId) } })
  }
}
