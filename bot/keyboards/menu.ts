import { InlineKeyboard } from 'grammy'
import type { Messages } from '../i18n/index.ts'

/** Callback data of the main menu; the features answer these. */
export const MENU = {
  home: 'menu:home',
  buy: 'menu:buy',
  accounts: 'menu:accounts',
  wallet: 'menu:wallet',
  help: 'menu:help',
  language: 'menu:lang',
} as const

export function mainMenu(t: Messages): InlineKeyboard {
  return new InlineKeyboard()
    .text(t.btnBuy, MENU.buy)
    .text(t.btnAccounts, MENU.accounts)
    .row()
    .text(t.btnWallet, MENU.wallet)
    .text(t.btnHelp, MENU.help)
    .row()
    .text(t.btnLanguage, MENU.language)
}

export function backToMenu(t: Messages): InlineKeyboard {
  return new InlineKeyboard().text(t.btnMenu, MENU.home)
}

export function languageKeyboard(t: Messages): InlineKeyboard {
  return new InlineKeyboard().text(t.btnLangFa, 'lang:fa').text(t.btnLangEn, 'lang:en')
}
