import type { FailoverSettings } from './config';

/**
 * The last failing check before Route 53 flips a region takes up to this long to conclude:
 * an HTTPS check must connect within 4 s and get its status within 2 s after connecting
 * (Route 53 Developer Guide, "How Amazon Route 53 determines whether a health check is
 * healthy"). AWS publishes no separate bound for moving the aggregated status to its DNS
 * servers; the failover drill measures the whole path end to end.
 */
export const HEALTH_STATUS_PROPAGATION_SECONDS = 4 + 2;

/** DSV's promise: traffic reaches the standby in under a minute. */
export const FAILOVER_BUDGET_SECONDS = 60;

export interface FailoverTime {
  readonly detectionSeconds: number;
  readonly propagationSeconds: number;
  readonly ttlSeconds: number;
  readonly worstCaseSeconds: number;
}

/**
 * Worst case from the primary's failure until a client that honours the TTL resolves the
 * standby: interval × threshold (detection) + status propagation + record TTL. With CNAME
 * failover records the TTL is ours; the per-region names they point at are never cached
 * across a flip, since the flipped CNAME names the other one.
 */
export function worstCaseFailover(settings: FailoverSettings): FailoverTime {
  const detectionSeconds = settings.healthCheckIntervalSeconds * settings.failureThreshold;
  const propagationSeconds = HEALTH_STATUS_PROPAGATION_SECONDS;
  const ttlSeconds = settings.recordTtlSeconds;
  return { detectionSeconds, propagationSeconds, ttlSeconds, worstCaseSeconds: detectionSeconds + propagationSeconds + ttlSeconds };
}
