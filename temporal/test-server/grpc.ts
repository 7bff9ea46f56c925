import * as grpc from '@grpc/grpc-js'
import protoRoot from '@temporalio/proto/protos/root.js'
import type { Method, Root, Service, Type } from 'protobufjs'

/** A decoded protobuf message as a plain object (int64 as number, enums as their names, bytes as Buffer). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any>

export const root = protoRoot as unknown as Root

const toObjectOptions = { longs: Number, enums: String, defaults: false, bytes: Buffer } as const

/** An RPC failure with a gRPC status code; `details` are `google.protobuf.Any`-packed messages. */
export class RpcError extends Error {
  readonly code: grpc.status
  readonly details: { typeName: string; value: Msg }[]
  constructor(code: grpc.status, message: string, details: { typeName: string; value: Msg }[] = []) {
    super(message)
    this.code = code
    this.details = details
  }
}

export const notFound = (message: string, details?: { typeName: string; value: Msg }[]): RpcError =>
  new RpcError(grpc.status.NOT_FOUND, message, details)
export const invalidArgument = (message: string): RpcError => new RpcError(grpc.status.INVALID_ARGUMENT, message)

export type Handler = (request: Msg, call: grpc.ServerUnaryCall<Msg, Msg>) => Msg | Promise<Msg>

export function lookupType(name: string): Type {
  return root.lookupType(name)
}

/** Encodes a plain object as `google.protobuf.Any`. */
export function packAny(typeName: string, value: Msg): Msg {
  const type = lookupType(typeName)
  return { type_url: `type.googleapis.com/${typeName}`, value: Buffer.from(type.encode(type.fromObject(value)).finish()) }
}

function statusDetailsMetadata(error: RpcError): grpc.Metadata {
  const metadata = new grpc.Metadata()
  if (error.details.length > 0) {
    const status = lookupType('google.rpc.Status')
    const details = error.details.map((d) => packAny(d.typeName, d.value))
    const bytes = status.encode(status.fromObject({ code: error.code, message: error.message, details })).finish()
    metadata.add('grpc-status-details-bin', Buffer.from(bytes))
  }
  return metadata
}

export interface ServiceOptions {
  /** Logs every call and its outcome to stderr. */
  log?: boolean
  /** Called for unexpected exceptions (server bugs). */
  onInternalError?: (method: string, error: unknown) => void
}

/**
 * Builds a grpc-js service definition and implementation straight from the protobuf reflection root
 * shipped by `@temporalio/proto`. Methods without a handler answer UNIMPLEMENTED with their name.
 */
export function buildService(
  serviceName: string,
  handlers: Record<string, Handler>,
  options: ServiceOptions = {},
): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  const service: Service = root.lookupService(serviceName)
  const definition: Record<string, grpc.MethodDefinition<Msg, Msg>> = {}
  const implementation: grpc.UntypedServiceImplementation = {}
  for (const method of Object.values(service.methods) as Method[]) {
    method.resolve()
    const requestType = method.resolvedRequestType as Type
    const responseType = method.resolvedResponseType as Type
    const name = method.name
    definition[name] = {
      path: `/${serviceName}/${name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: Msg) => Buffer.from(requestType.encode(requestType.fromObject(value)).finish()),
      requestDeserialize: (bytes: Buffer) => requestType.toObject(requestType.decode(bytes), toObjectOptions),
      responseSerialize: (value: Msg) => Buffer.from(responseType.encode(responseType.fromObject(value)).finish()),
      responseDeserialize: (bytes: Buffer) => responseType.toObject(responseType.decode(bytes), toObjectOptions),
      originalName: name[0]!.toLowerCase() + name.slice(1),
    }
    const handler = handlers[name]
    implementation[name] = (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
      if (!handler) {
        callback({ code: grpc.status.UNIMPLEMENTED, details: `${serviceName}/${name} is not implemented by the test server` })
        return
      }
      if (options.log) process.stderr.write(`[tsrv] -> ${name} ${safeJson(call.request)}\n`)
      let result: Msg | Promise<Msg>
      try {
        result = handler(call.request, call)
      } catch (error) {
        reply(error)
        return
      }
      if (result instanceof Promise) result.then((value) => reply(null, value), (error: unknown) => reply(error))
      else reply(null, result)

      function reply(error: unknown, value?: Msg): void {
        if (error == null) {
          if (options.log) process.stderr.write(`[tsrv] <- ${name} ok\n`)
          callback(null, value ?? {})
          return
        }
        if (error instanceof RpcError) {
          if (options.log) process.stderr.write(`[tsrv] <- ${name} ${grpc.status[error.code]} ${error.message}\n`)
          callback({ code: error.code, details: error.message, metadata: statusDetailsMetadata(error) })
          return
        }
        options.onInternalError?.(name, error)
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
        callback({ code: grpc.status.INTERNAL, details: `${name} failed in the test server: ${message}` })
      }
    }
  }
  return { definition: definition as grpc.ServiceDefinition, implementation }
}

function safeJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? '<bytes>' : v,
  )
  return text.length > 600 ? `${text.slice(0, 600)}…` : text
}
