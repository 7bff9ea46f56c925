import { InvalidAmountError, parsePositiveMoney } from '#domain/money.ts'
import { gbToBytes } from '#domain/pricing.ts'
import { ensureLocation } from '#db/panels.ts'
import { optionalFlag, requireFlag, UsageError, type Command } from '../cli.ts'
import { withCliDatabase } from './db.ts'

function money(raw: string, flag: string): bigint {
  try {
    return parsePositiveMoney(raw, `--${flag}`)
  } catch (error) {
    if (error instanceof InvalidAmountError) throw new UsageError(error.message)
    throw error
  }
}

const add: Command = {
  name: ['plan', 'add'],
  usage: 'plan add --name NAME [--name-fa NAME] --days N --gb N --price AMOUNT --agent-price AMOUNT [--location CODE[,CODE…]]',
  summary: 'Add a plan on sale in the given locations (--gb 0 = unlimited traffic)',
  async run({ flags, out }) {
    const name = requireFlag(flags, 'name', 'name')
    const daysRaw = requireFlag(flags, 'days')
    if (!/^[1-9][0-9]{0,4}$/.test(daysRaw)) throw new UsageError(`--days must be a whole number of days (got "${daysRaw}")`)
    let bytes: bigint
    try {
      bytes = gbToBytes(requireFlag(flags, 'gb'))
    } catch (error) {
      throw new UsageError(`--gb: ${(error as Error).message}`)
    }
    const price = money(requireFlag(flags, 'price'), 'price')
    const agentPrice = money(requireFlag(flags, 'agent-price'), 'agent-price')
    const codes = (optionalFlag(flags, 'location') ?? 'default').split(',').map((s) => s.trim()).filter(Boolean)
    return withCliDatabase(flags, 'plan add', async (db) => {
      const plan = await db.transaction(async (trx) => {
        const [row] = await trx('plans')
          .insert({ nameEn: name, nameFa: optionalFlag(flags, 'name-fa', 'name') ?? name, days: Number(daysRaw), dataLimitBytes: bytes.toString(), price: price.toString(), agentPrice: agentPrice.toString() })
          .returning('*')
        for (const code of codes) {
          const location = await ensureLocation(trx, code)
          await trx('planLocations').insert({ planId: row.id, locationId: location.id })
        }
        return row
      })
      out(`plan "${plan.nameEn}" added (id ${plan.id}): ${plan.days} days, ${bytes === 0n ? 'unlimited' : `${requireFlag(flags, 'gb')} GB`}, price ${price}, agent price ${agentPrice}, in ${codes.join(', ')}`)
      return 0
    })
  },
}

export const commands: Command[] = [add]
