import { Model } from 'objection'

/**
 * objection models, one per table. Columns are camelCase here (the knex instance maps them to snake_case).
 * int8 columns (money, bytes, telegram ids) arrive from pg as decimal strings; convert with domain/money.ts.
 * Database rules (NOT NULL, CHECK, UNIQUE, FK) live in migrations, not in jsonSchema.
 */
export type Role = 'admin' | 'agent' | 'customer'
export type Locale = 'fa' | 'en'

export class User extends Model {
  static override tableName = 'users'
  id!: number
  username!: string
  passwordHash!: string | null
  role!: Role
  status!: 'active' | 'disabled'
  displayName!: string | null
  locale!: Locale
  theme!: 'dark' | 'light'
  telegramId!: string | null
  telegramUsername!: string | null
  totpSecretEncrypted!: string | null
  totpEnabled!: boolean
  createdAt!: Date
  updatedAt!: Date

  agent?: Agent
  wallet?: Wallet

  static override get relationMappings() {
    return {
      agent: { relation: Model.HasOneRelation, modelClass: Agent, join: { from: 'users.id', to: 'agents.userId' } },
      wallet: { relation: Model.HasOneRelation, modelClass: Wallet, join: { from: 'users.id', to: 'wallets.userId' } },
    }
  }
}

export class Session extends Model {
  static override tableName = 'sessions'
  id!: string
  userId!: number
  expiresAt!: Date
  twoFactorVerified!: boolean
  ip!: string | null
  userAgent!: string | null
  createdAt!: Date
}

export class Agent extends Model {
  static override tableName = 'agents'
  static override idColumn = 'userId'
  userId!: number
  firstName!: string
  lastName!: string
  phone!: string | null
  shopName!: string | null
  address!: string | null
  maxActiveAccounts!: number | null
  mayDeleteForRefund!: boolean
  createdAt!: Date
  updatedAt!: Date

  user?: User
  locations?: Location[]

  static override get relationMappings() {
    return {
      user: { relation: Model.BelongsToOneRelation, modelClass: User, join: { from: 'agents.userId', to: 'users.id' } },
      locations: {
        relation: Model.ManyToManyRelation,
        modelClass: Location,
        join: {
          from: 'agents.userId',
          through: { from: 'agentLocations.agentUserId', to: 'agentLocations.locationId' },
          to: 'locations.id',
        },
      },
    }
  }
}

export class Wallet extends Model {
  static override tableName = 'wallets'
  static override idColumn = 'userId'
  userId!: number
  confirmed!: string
  pending!: string
  negativeSince!: Date | null
  updatedAt!: Date
}

export class LedgerEntry extends Model {
  static override tableName = 'ledgerEntries'
  id!: string
  walletUserId!: number
  type!: string
  confirmedDelta!: string
  pendingDelta!: string
  confirmedBefore!: string
  confirmedAfter!: string
  pendingBefore!: string
  pendingAfter!: string
  referenceType!: string | null
  referenceId!: string | null
  idempotencyKey!: string
  actorUserId!: number | null
  note!: string | null
  createdAt!: Date
}

export class Location extends Model {
  static override tableName = 'locations'
  id!: number
  code!: string
  nameFa!: string
  nameEn!: string
  active!: boolean
  createdAt!: Date
}

export class Plan extends Model {
  static override tableName = 'plans'
  id!: number
  nameFa!: string
  nameEn!: string
  days!: number
  dataLimitBytes!: string
  price!: string
  agentPrice!: string
  active!: boolean
  createdAt!: Date
  updatedAt!: Date

  locations?: Location[]

  static override get relationMappings() {
    return {
      locations: {
        relation: Model.ManyToManyRelation,
        modelClass: Location,
        join: {
          from: 'plans.id',
          through: { from: 'planLocations.planId', to: 'planLocations.locationId' },
          to: 'locations.id',
        },
      },
    }
  }
}

export type PanelType = 'marzban' | '3x-ui'
export type PanelHealth = 'unknown' | 'healthy' | 'degraded' | 'down'

export class Panel extends Model {
  static override tableName = 'panels'
  id!: number
  name!: string
  type!: PanelType
  baseUrl!: string
  credentialsEncrypted!: string
  proxyUrl!: string | null
  locationId!: number
  capacity!: number
  settings!: Record<string, unknown>
  active!: boolean
  healthStatus!: PanelHealth
  healthDetail!: string | null
  version!: string | null
  healthCheckedAt!: Date | null
  createdAt!: Date
  updatedAt!: Date
}

export type PaymentMethodKind = 'CARD' | 'SHEBA' | 'CRYPTO' | 'ZARINPAL'

export class PaymentMethod extends Model {
  static override tableName = 'paymentMethods'
  id!: number
  kind!: PaymentMethodKind
  titleFa!: string
  titleEn!: string
  config!: Record<string, unknown>
  dailyCountLimit!: number | null
  dailyAmountLimit!: string | null
  active!: boolean
  createdAt!: Date
  updatedAt!: Date
}

export type PaymentStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED'

export class Payment extends Model {
  static override tableName = 'payments'
  id!: number
  userId!: number
  methodId!: number
  orderId!: number | null
  amount!: string
  status!: PaymentStatus
  receiptPath!: string | null
  receiptSha256!: string | null
  receiptMime!: string | null
  gatewayAuthority!: string | null
  gatewayRefId!: string | null
  decidedBy!: number | null
  decidedAt!: Date | null
  note!: string | null
  workflowId!: string | null
  createdAt!: Date
  updatedAt!: Date
}

export type OrderKind = 'new' | 'renew' | 'extend'
export type OrderPayMethod = 'wallet' | 'receipt' | 'zarinpal'
export type OrderStatus = 'pending' | 'awaiting_payment' | 'provisioning' | 'delivered' | 'failed' | 'cancelled' | 'refunded'

export class Order extends Model {
  static override tableName = 'orders'
  id!: number
  userId!: number
  planId!: number
  locationId!: number | null
  kind!: OrderKind
  accountId!: number | null
  payMethod!: OrderPayMethod
  price!: string
  status!: OrderStatus
  workflowId!: string | null
  idempotencyKey!: string | null
  requestedUsername!: string | null
  note!: string | null
  failureReason!: string | null
  createdAt!: Date
  updatedAt!: Date
  deliveredAt!: Date | null
}

export type AccountStatus = 'active' | 'disabled' | 'limited' | 'expired' | 'deleted'
export type DisabledReason = 'negative_credit' | 'admin' | 'expired' | 'limited'

export class Account extends Model {
  static override tableName = 'accounts'
  id!: number
  userId!: number
  orderId!: number
  planId!: number
  panelId!: number
  panelUsername!: string
  subscriptionUrl!: string | null
  expiresAt!: Date | null
  dataLimitBytes!: string
  dataUsedBytes!: string
  status!: AccountStatus
  disabledReason!: DisabledReason | null
  note!: string | null
  usageSyncedAt!: Date | null
  createdAt!: Date
  updatedAt!: Date
  deletedAt!: Date | null
}

export class AuditLog extends Model {
  static override tableName = 'auditLog'
  id!: string
  actorUserId!: number | null
  action!: string
  targetType!: string | null
  targetId!: string | null
  detail!: Record<string, unknown>
  ip!: string | null
  userAgent!: string | null
  createdAt!: Date
}
