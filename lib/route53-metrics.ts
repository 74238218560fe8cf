/** Route 53 publishes health-check metrics in this region only; their alarms must live here. */
export const ROUTE53_METRICS_REGION = 'us-east-1';
