/**
 * What the official SDKs (openai, @anthropic-ai/sdk) share. Both are generated from one template, so
 * their errors have the same names and fields but are separate classes: given each SDK's classes,
 * one call path (concurrency limit, retries, tally) and one error policy serve both providers.
 */
import { ConcurrencyLimit, ProviderError, Tally, retryAfterMs, withRetries, type FailureVerdict, type RetryPolicy, type Usage } from "./provider.js";

interface SdkApiError extends Error {
  status?: number;
  headers?: { get(name: string): string | null };
}
type ErrorClass<E extends Error = Error> = abstract new (...args: any[]) => E;

/** One SDK's error classes and how to read a readable message out of its API errors. */
export interface SdkErrors {
  APIError: ErrorClass<SdkApiError>;
  NotFoundError: ErrorClass<SdkApiError>;
  APIUserAbortError: ErrorClass;
  APIConnectionError: ErrorClass; // its timeout error is a subclass
  message(error: SdkApiError): string;
}

/** Everything a provider's calls go through. */
export interface SdkContext {
  model: string;
  /** The endpoint, for messages. */
  where(): string;
  errors: SdkErrors;
  limit: ConcurrencyLimit;
  tally: Tally;
  policy: RetryPolicy;
}

/** Retry rate limits, server errors, timeouts and dropped connections; not 4xx mistakes. */
export function sdkFailure(errors: SdkErrors, error: unknown): FailureVerdict {
  if (error instanceof errors.APIUserAbortError) return { retry: false };
  if (error instanceof errors.APIError && error.status) {
    const s = error.status;
    return { retry: s === 408 || s === 409 || s === 429 || s >= 500, retryAfterMs: retryAfterMs(error.headers) };
  }
  return { retry: error instanceof errors.APIConnectionError };
}

/** The SDK's error as a one-line ProviderError naming the model and endpoint (aborts pass through). */
export function explainSdkError(context: SdkContext, error: unknown): unknown {
  const { model, errors } = context;
  const where = context.where();
  if (error instanceof errors.NotFoundError) return new ProviderError(`unknown model "${model}" at ${where}: ${errors.message(error)}`, 404);
  if (error instanceof errors.APIError && error.status) return new ProviderError(`${model} at ${where}: HTTP ${error.status}: ${errors.message(error)}`, error.status);
  if (error instanceof errors.APIUserAbortError) return error;
  if (error instanceof errors.APIConnectionError) return new ProviderError(`${model}: cannot reach ${where}: ${error.message}`);
  return error;
}

/** One request: within the concurrency limit, retried by the policy, its usage tallied, failures explained. */
export function callSdk<T>(context: SdkContext, request: () => Promise<T>, usage: (reply: T) => Usage, signal?: AbortSignal): Promise<T> {
  return context.limit.run(async () => {
    try {
      const reply = await withRetries(request, (error) => sdkFailure(context.errors, error), context.tally, context.policy, signal);
      context.tally.add(usage(reply));
      return reply;
    } catch (error) {
      throw explainSdkError(context, error);
    }
  }, signal);
}
