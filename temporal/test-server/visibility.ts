import { invalidArgument, type Msg } from './grpc.ts'
import type { Namespace, Run } from './model.ts'
import { toMs } from './util.ts'

const TYPE_NAMES: Record<string, string> = {
  Text: 'INDEXED_VALUE_TYPE_TEXT',
  Keyword: 'INDEXED_VALUE_TYPE_KEYWORD',
  Int: 'INDEXED_VALUE_TYPE_INT',
  Double: 'INDEXED_VALUE_TYPE_DOUBLE',
  Bool: 'INDEXED_VALUE_TYPE_BOOL',
  Datetime: 'INDEXED_VALUE_TYPE_DATETIME',
  KeywordList: 'INDEXED_VALUE_TYPE_KEYWORD_LIST',
}

const SYSTEM_ATTRIBUTES: Record<string, string> = {
  WorkflowId: 'Keyword',
  RunId: 'Keyword',
  WorkflowType: 'Keyword',
  ExecutionStatus: 'Keyword',
  TaskQueue: 'Keyword',
  StartTime: 'Datetime',
  CloseTime: 'Datetime',
  ExecutionTime: 'Datetime',
  ExecutionDuration: 'Int',
  HistoryLength: 'Int',
  ParentWorkflowId: 'Keyword',
  ParentRunId: 'Keyword',
  RootWorkflowId: 'Keyword',
  RootRunId: 'Keyword',
  TemporalChangeVersion: 'KeywordList',
  BuildIds: 'KeywordList',
  BinaryChecksums: 'KeywordList',
}

/** Custom search attributes known to the server, as in the dev server's defaults plus registered ones. */
export class SearchAttributeRegistry {
  private readonly custom = new Map<string, string>([
    ['CustomKeywordField', 'Keyword'],
    ['CustomStringField', 'Text'],
    ['CustomTextField', 'Text'],
    ['CustomIntField', 'Int'],
    ['CustomDoubleField', 'Double'],
    ['CustomBoolField', 'Bool'],
    ['CustomDatetimeField', 'Datetime'],
  ])

  constructor(extra: Record<string, string> = {}) {
    for (const [name, type] of Object.entries(extra)) this.add(name, type)
  }

  /** Registers a custom attribute; `type` is a short name (Keyword) or the enum name (INDEXED_VALUE_TYPE_KEYWORD). */
  add(name: string, type: string): void {
    const short = shortType(type)
    if (!short) throw invalidArgument(`Unknown search attribute type ${type} for ${name}`)
    if (SYSTEM_ATTRIBUTES[name]) throw invalidArgument(`Search attribute ${name} is reserved by the system.`)
    this.custom.set(name, short)
  }

  remove(name: string): void {
    if (!this.custom.delete(name)) throw invalidArgument(`Search attribute ${name} doesn't exist.`)
  }

  typeOf(name: string): string | undefined {
    return SYSTEM_ATTRIBUTES[name] ?? this.custom.get(name)
  }

  all(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [name, type] of Object.entries(SYSTEM_ATTRIBUTES)) out[name] = TYPE_NAMES[type]!
    for (const [name, type] of this.custom) out[name] = TYPE_NAMES[type]!
    return out
  }

  customAttributes(): Record<string, string> {
    return Object.fromEntries([...this.custom].map(([n, t]) => [n, TYPE_NAMES[t]!]))
  }

  systemAttributes(): Record<string, string> {
    return Object.fromEntries(Object.entries(SYSTEM_ATTRIBUTES).map(([n, t]) => [n, TYPE_NAMES[t]!]))
  }

  /** Adds the `type` metadata the SDKs use to decode typed search attributes, as the real server does. */
  annotate(name: string, payload: Msg): Msg {
    const type = this.typeOf(name)
    if (!type || payload.metadata?.type) return payload
    return { ...payload, metadata: { ...(payload.metadata ?? {}), type: Buffer.from(type) } }
  }

  /** Rejects unregistered names, as the real server does. */
  validate(searchAttributes: Msg | undefined): void {
    for (const name of Object.keys(searchAttributes?.indexedFields ?? {})) {
      if (name === 'TemporalChangeVersion' || name === 'BuildIds') continue
      if (!this.custom.has(name)) {
        throw invalidArgument(`search attribute ${name} is not defined`)
      }
    }
  }
}

function shortType(type: string): string | undefined {
  if (TYPE_NAMES[type]) return type
  const found = Object.entries(TYPE_NAMES).find(([, v]) => v === type)
  if (found) return found[0]
  const lower = Object.keys(TYPE_NAMES).find((k) => k.toLowerCase() === type.toLowerCase())
  return lower
}

export function decodePayload(payload: Msg | undefined): unknown {
  if (!payload?.data) return undefined
  const encoding = payload.metadata?.encoding ? Buffer.from(payload.metadata.encoding).toString() : 'json/plain'
  if (encoding === 'binary/null') return null
  if (encoding !== 'json/plain') return undefined
  try {
    return JSON.parse(Buffer.from(payload.data).toString('utf8'))
  } catch {
    return undefined
  }
}

export function jsonPayload(value: unknown): Msg {
  return { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) }
}

const STATUS_NAMES: Record<string, string> = {
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  CANCELED: 'Canceled',
  TERMINATED: 'Terminated',
  CONTINUED_AS_NEW: 'ContinuedAsNew',
  TIMED_OUT: 'TimedOut',
}

// ---------------------------------------------------------------- query language

type Token = { kind: 'id' | 'str' | 'num' | 'op' | 'punct'; text: string }

function tokenize(query: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < query.length) {
    const c = query[i]!
    if (/\s/.test(c)) {
      i++
    } else if (c === "'" || c === '"') {
      let j = i + 1
      let text = ''
      while (j < query.length && query[j] !== c) {
        if (query[j] === '\\' && j + 1 < query.length) j++
        text += query[j]
        j++
      }
      if (j >= query.length) throw invalidArgument(`unsupported query: unterminated string in ${query}`)
      tokens.push({ kind: 'str', text })
      i = j + 1
    } else if (c === '`') {
      const j = query.indexOf('`', i + 1)
      if (j < 0) throw invalidArgument(`unsupported query: unterminated identifier in ${query}`)
      tokens.push({ kind: 'id', text: query.slice(i + 1, j) })
      i = j + 1
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(query.slice(i))
      if (!m) throw invalidArgument(`unsupported query: unexpected '${c}' in ${query}`)
      tokens.push({ kind: 'num', text: m[0] })
      i += m[0].length
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(query.slice(i))!
      tokens.push({ kind: 'id', text: m[0] })
      i += m[0].length
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c })
      i++
    } else {
      const m = /^(<=|>=|!=|<>|=|<|>)/.exec(query.slice(i))
      if (!m) throw invalidArgument(`unsupported query: unexpected '${c}' in ${query}`)
      tokens.push({ kind: 'op', text: m[0] === '<>' ? '!=' : m[0] })
      i += m[0].length
    }
  }
  return tokens
}

type Literal = string | number | boolean
type Predicate = (row: Row) => boolean
type Row = (field: string) => unknown

interface ParsedQuery {
  where: Predicate
  orderBy: { field: string; desc: boolean }[]
  groupBy?: string
}

class Parser {
  private pos = 0
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
    private readonly registry: SearchAttributeRegistry,
  ) {}

  fail(message: string): never {
    throw invalidArgument(`unsupported query: ${message} in "${this.source}"`)
  }

  peek(): Token | undefined {
    return this.tokens[this.pos]
  }

  keyword(word: string): boolean {
    const t = this.peek()
    if (t?.kind === 'id' && t.text.toUpperCase() === word) {
      this.pos++
      return true
    }
    return false
  }

  punct(p: string): boolean {
    const t = this.peek()
    if (t?.kind === 'punct' && t.text === p) {
      this.pos++
      return true
    }
    return false
  }

  expectPunct(p: string): void {
    if (!this.punct(p)) this.fail(`expected '${p}'`)
  }

  parse(): ParsedQuery {
    let where: Predicate = () => true
    const t = this.peek()
    if (t && !(t.kind === 'id' && (t.text.toUpperCase() === 'ORDER' || t.text.toUpperCase() === 'GROUP'))) where = this.or()
    const orderBy: ParsedQuery['orderBy'] = []
    let groupBy: string | undefined
    for (;;) {
      if (this.keyword('ORDER')) {
        if (!this.keyword('BY')) this.fail('expected BY')
        do {
          const field = this.field()
          let desc = false
          if (this.keyword('DESC')) desc = true
          else this.keyword('ASC')
          orderBy.push({ field, desc })
        } while (this.punct(','))
      } else if (this.keyword('GROUP')) {
        if (!this.keyword('BY')) this.fail('expected BY')
        groupBy = this.field()
        if (groupBy !== 'ExecutionStatus') this.fail('GROUP BY supports only ExecutionStatus')
      } else {
        break
      }
    }
    if (this.pos < this.tokens.length) this.fail(`unexpected '${this.peek()!.text}'`)
    return { where, orderBy, groupBy }
  }

  or(): Predicate {
    let left = this.and()
    while (this.keyword('OR')) {
      const l = left
      const r = this.and()
      left = (row) => l(row) || r(row)
    }
    return left
  }

  and(): Predicate {
    let left = this.not()
    while (this.keyword('AND')) {
      const l = left
      const r = this.not()
      left = (row) => l(row) && r(row)
    }
    return left
  }

  not(): Predicate {
    if (this.keyword('NOT')) {
      const inner = this.not()
      return (row) => !inner(row)
    }
    if (this.punct('(')) {
      const inner = this.or()
      this.expectPunct(')')
      return inner
    }
    return this.comparison()
  }

  field(): string {
    const t = this.peek()
    if (t?.kind !== 'id') this.fail('expected a field name')
    this.pos++
    if (!this.registry.typeOf(t.text)) this.fail(`unknown search attribute ${t.text}`)
    return t.text
  }

  literal(field: string): Literal {
    const t = this.peek()
    if (!t) this.fail('expected a value')
    this.pos++
    let value: Literal
    if (t.kind === 'str') value = t.text
    else if (t.kind === 'num') value = Number(t.text)
    else if (t.kind === 'id' && (t.text.toLowerCase() === 'true' || t.text.toLowerCase() === 'false')) value = t.text.toLowerCase() === 'true'
    else this.fail(`unexpected '${t.text}'`)
    return coerce(this.registry.typeOf(field)!, value, (m) => this.fail(m))
  }

  comparison(): Predicate {
    const field = this.field()
    const type = this.registry.typeOf(field)!
    const get = (row: Row) => row(field)
    if (this.keyword('IS')) {
      const negate = this.keyword('NOT')
      if (!this.keyword('NULL')) this.fail('expected NULL')
      return (row) => {
        const v = get(row)
        const isNull = v === undefined || v === null || v === ''
        return negate ? !isNull : isNull
      }
    }
    if (this.keyword('BETWEEN')) {
      const low = this.literal(field)
      if (!this.keyword('AND')) this.fail('expected AND in BETWEEN')
      const high = this.literal(field)
      return (row) => cmp(get(row), low, '>=') && cmp(get(row), high, '<=')
    }
    if (this.keyword('STARTS_WITH')) {
      const prefix = this.literal(field)
      return (row) => {
        const v = get(row)
        return typeof v === 'string' && v.startsWith(String(prefix))
      }
    }
    let negate = false
    if (this.keyword('NOT')) {
      negate = true
      if (!this.keyword('IN')) this.fail('expected IN after NOT')
      return this.inList(field, get, negate)
    }
    if (this.keyword('IN')) return this.inList(field, get, negate)
    const t = this.peek()
    if (t?.kind !== 'op') this.fail(`expected an operator after ${field}`)
    this.pos++
    const value = this.literal(field)
    const op = t.text
    if (type === 'KeywordList') {
      return (row) => {
        const list = get(row)
        const has = Array.isArray(list) && list.includes(value)
        if (op === '=') return has
        if (op === '!=') return !has
        return false
      }
    }
    return (row) => cmp(get(row), value, op)
  }

  inList(field: string, get: (row: Row) => unknown, negate: boolean): Predicate {
    this.expectPunct('(')
    const values: Literal[] = []
    do values.push(this.literal(field))
    while (this.punct(','))
    this.expectPunct(')')
    return (row) => {
      const v = get(row)
      const hit = Array.isArray(v) ? v.some((x) => values.includes(x as Literal)) : values.includes(v as Literal)
      return negate ? !hit : hit
    }
  }
}

function coerce(type: string, value: Literal, fail: (m: string) => never): Literal {
  if (type === 'Datetime') {
    if (typeof value === 'number') return value
    const ms = Date.parse(String(value))
    if (Number.isNaN(ms)) fail(`invalid time ${value}`)
    return ms
  }
  if (type === 'Int' || type === 'Double') {
    const n = typeof value === 'number' ? value : Number(value)
    if (Number.isNaN(n)) fail(`invalid number ${value}`)
    return n
  }
  if (type === 'Bool') return typeof value === 'boolean' ? value : String(value).toLowerCase() === 'true'
  return typeof value === 'string' ? value : String(value)
}

function cmp(a: unknown, b: Literal, op: string): boolean {
  if (a === undefined || a === null) return op === '!='
  const x = a as Literal
  switch (op) {
    case '=':
      return x === b
    case '!=':
      return x !== b
    case '<':
      return x < b
    case '<=':
      return x <= b
    case '>':
      return x > b
    case '>=':
      return x >= b
    default:
      return false
  }
}

export class Visibility {
  constructor(
    private readonly registry: SearchAttributeRegistry,
    private readonly info: (run: Run) => Msg,
  ) {}

  private row(run: Run): Row {
    return (field) => {
      switch (field) {
        case 'WorkflowId':
          return run.workflowId
        case 'RunId':
          return run.runId
        case 'WorkflowType':
          return run.workflowType
        case 'ExecutionStatus':
          return STATUS_NAMES[run.status]
        case 'TaskQueue':
          return run.taskQueue
        case 'StartTime':
          return run.startTime
        case 'CloseTime':
          return run.closeTime
        case 'ExecutionTime':
          return run.executionTime
        case 'ExecutionDuration':
          return run.closeTime !== undefined ? (run.closeTime - run.executionTime) * 1_000_000 : undefined
        case 'HistoryLength':
          return run.history.length
        case 'ParentWorkflowId':
          return run.parent?.workflowId
        case 'ParentRunId':
          return run.parent?.runId
        case 'RootWorkflowId':
          return run.root.workflowId
        case 'RootRunId':
          return run.root.runId
        default: {
          let value = decodePayload(run.searchAttributes[field])
          const type = this.registry.typeOf(field)
          // Untyped (legacy) values arrive as one-element arrays.
          if (type !== 'KeywordList' && Array.isArray(value) && value.length === 1) value = value[0]
          if (type === 'Datetime' && typeof value === 'string') return Date.parse(value)
          if (type === 'KeywordList' && typeof value === 'string') return [value]
          return value
        }
      }
    }
  }

  private parse(query: string | undefined): ParsedQuery {
    if (!query || !query.trim()) return { where: () => true, orderBy: [] }
    return new Parser(tokenize(query), query, this.registry).parse()
  }

  private select(ns: Namespace, query: string | undefined): { runs: Run[]; parsed: ParsedQuery } {
    const parsed = this.parse(query)
    const runs = [...ns.runs.values()].filter((run) => parsed.where(this.row(run)))
    const order = parsed.orderBy.length > 0 ? parsed.orderBy : [{ field: 'StartTime', desc: true }]
    const rowCache = new Map<Run, Row>()
    const rowOf = (run: Run) => {
      let row = rowCache.get(run)
      if (!row) rowCache.set(run, (row = this.row(run)))
      return row
    }
    const indexOf = new Map(runs.map((r, i) => [r, i]))
    runs.sort((a, b) => {
      for (const { field, desc } of order) {
        const x = rowOf(a)(field) as Literal | undefined
        const y = rowOf(b)(field) as Literal | undefined
        if (x === y) continue
        if (x === undefined) return 1
        if (y === undefined) return -1
        const c = x < y ? -1 : 1
        return desc ? -c : c
      }
      // Same start time: newer runs first.
      return indexOf.get(b)! - indexOf.get(a)!
    })
    return { runs, parsed }
  }

  list(ns: Namespace, r: Msg): Msg {
    const { runs } = this.select(ns, r.query)
    return this.page(runs, r.pageSize, r.nextPageToken)
  }

  private page(runs: Run[], size: number | undefined, token: Uint8Array | undefined): Msg {
    const pageSize = size && size > 0 ? size : 1000
    const offset = token && token.length > 0 ? Number(Buffer.from(token).toString('utf8')) || 0 : 0
    const slice = runs.slice(offset, offset + pageSize)
    const next = offset + pageSize < runs.length ? Buffer.from(String(offset + pageSize)) : undefined
    return { executions: slice.map((run) => this.info(run)), nextPageToken: next }
  }

  count(ns: Namespace, r: Msg): Msg {
    const { runs, parsed } = this.select(ns, r.query)
    if (parsed.groupBy) {
      const counts = new Map<string, number>()
      for (const run of runs) {
        const key = STATUS_NAMES[run.status]!
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
      return {
        count: runs.length,
        groups: [...counts].map(([value, count]) => ({ groupValues: [jsonPayload(value)], count })),
      }
    }
    return { count: runs.length }
  }

  listOpenClosed(ns: Namespace, r: Msg, open: boolean): Msg {
    const earliest = toMs(r.startTimeFilter?.earliestTime)
    const latest = toMs(r.startTimeFilter?.latestTime) || Infinity
    const runs = [...ns.runs.values()]
      .filter((run) => (run.status === 'RUNNING') === open)
      .filter((run) => run.startTime >= earliest && run.startTime <= latest)
      .filter((run) => !r.executionFilter?.workflowId || run.workflowId === r.executionFilter.workflowId)
      .filter((run) => !r.typeFilter?.name || run.workflowType === r.typeFilter.name)
      .filter((run) => !r.statusFilter?.status || `WORKFLOW_EXECUTION_STATUS_${run.status}` === r.statusFilter.status)
      .reverse()
    return this.page(runs, r.maximumPageSize, r.nextPageToken)
  }
}

