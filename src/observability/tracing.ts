/**
 * Traces through the OpenTelemetry API only: the application brings (and registers) the SDK. Without
 * one the API hands out non-recording spans, so these helpers cost a few calls and no export.
 *
 * Span attributes are categories (route templates, store and operation names, cache hit or miss,
 * an error code): never an id, an address, a token or a raw path.
 */
import { SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { isGatehouseError } from '../errors.js';

export const TRACER_NAME = 'gatehouse';

/** Gatehouse's tracer from the global provider (a proxy: an SDK registered later is picked up). */
export function gatehouseTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** Marks the span failed with a category only: the message of an arbitrary error may carry personal data. */
export function failSpan(span: Span, e: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: isGatehouseError(e) ? e.code : e instanceof Error ? e.name : 'error' });
}

/** Runs `fn` inside an active span (its store calls become children), ending it however `fn` ends. */
export function inSpan<T>(tracer: Tracer, name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      failSpan(span, e);
      throw e;
    } finally {
      span.end();
    }
  });
}

/** True when a recording span is active: only then is a span for a cache hit worth making. */
export function tracing(): boolean {
  return trace.getActiveSpan()?.isRecording() === true;
}
