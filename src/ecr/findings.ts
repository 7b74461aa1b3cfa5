import type { ImageScanFindings } from '@aws-sdk/client-ecr'
import type { Finding } from '../core/gates.js'

/** Both shapes as one: basic scanning's `findings` and enhanced scanning's `enhancedFindings`. */
export function findingsOf(found: ImageScanFindings | undefined): Finding[] {
  const basic = (found?.findings ?? []).map(({ name, severity, attributes = [] }): Finding => ({
    id: name ?? '(unnamed)',
    severity: severity ?? 'UNDEFINED',
    open: true,
    ...packageOf(attributes.find(({ key }) => key === 'package_name')?.value)
  }))
  const enhanced = (found?.enhancedFindings ?? []).map(
    ({ packageVulnerabilityDetails: details, title, severity, status, fixAvailable }): Finding => ({
      id: details?.vulnerabilityId ?? title ?? '(unnamed)',
      severity: severity ?? 'UNDEFINED',
      // Suppressed and closed findings are ones Inspector no longer reports as present.
      open: status === undefined || status === 'ACTIVE',
      ...packageOf(details?.vulnerablePackages?.[0]?.name),
      ...(fixAvailable && { fixAvailable })
    })
  )
  return [...basic, ...enhanced]
}

const packageOf = (name: string | undefined): { package?: string } =>
  name ? { package: name } : {}
