import { Certificate, CertificateValidation, type ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import { DomainName, EndpointType, type RestApi, SecurityPolicy } from 'aws-cdk-lib/aws-apigateway';
import { ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayDomain } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { type CofferConfig, regionalApiDomain } from '../config';

export interface ApiDomainProps {
  readonly config: CofferConfig;
  readonly region: string;
  readonly api: RestApi;
}

/**
 * The names one region's API answers on, TLS 1.2 at least:
 * - the public name (`api.<stage>…`), which the failover records (DNS stack) point here
 *   while this region is the one Route 53 picks: API Gateway routes a request by the name
 *   the client asked for, so every region must know the public name;
 * - `<region>.<public name>`, this region alone (an alias record written here), which
 *   Route 53's health check probes and an SRE can call directly.
 * The certificate comes from the config or is created here, DNS-validated in the zone
 * imported by id and name (no lookup).
 */
export class ApiDomain extends Construct {
  readonly publicName: DomainName;
  readonly regionalName: DomainName;
  readonly certificate: ICertificate;

  constructor(scope: Construct, id: string, props: ApiDomainProps) {
    super(scope, id);
    const { config, region, api } = props;
    const regional = regionalApiDomain(config, region);
    const zone = HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: config.hostedZone.id, zoneName: config.hostedZone.name });

    const certificateArn = config.certificateArns[region];
    this.certificate = certificateArn
      ? Certificate.fromCertificateArn(this, 'Certificate', certificateArn)
      : new Certificate(this, 'Certificate', {
          domainName: config.apiDomain,
          subjectAlternativeNames: [regional],
          validation: CertificateValidation.fromDns(zone),
        });

    const domain = (name: string, domainName: string) =>
      new DomainName(this, name, {
        domainName,
        certificate: this.certificate,
        endpointType: EndpointType.REGIONAL,
        securityPolicy: SecurityPolicy.TLS_1_2,
        mapping: api,
      });
    this.publicName = domain('PublicName', config.apiDomain);
    this.regionalName = domain('RegionalName', regional);

    new ARecord(this, 'RegionalRecord', {
      zone,
      recordName: regional,
      target: RecordTarget.fromAlias(new ApiGatewayDomain(this.regionalName)),
      comment: `Coffer API in ${region} only (health-checked by Route 53)`,
    });
  }
}
