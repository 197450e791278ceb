import rolesConfig from '../../../../config/roles.json' with { type: 'json' };

/*
 * The app's pages and the permission each one needs, so navigation offers a person only the
 * pages their roles allow. The permissions per role are config/roles.json's, read at build time:
 * the server reads the same file and decides; this only guides. A deployment that points
 * MEDAXIS_CONFIG_DIR at other roles must rebuild the web app for the links to follow them
 * (a wrong link still ends at the page's own "not allowed", never at data).
 */

/** The pages a person may open from the navigation, in its order. */
export const appPages = [
  { key: 'board', href: '/board', label: 'Bed board', permission: 'board.read' },
  { key: 'interfaces', href: '/interfaces', label: 'HL7 messages', permission: 'interface.read' },
  {
    key: 'imports',
    href: '/interfaces/imports',
    label: 'Import rejections',
    permission: 'import.read',
  },
  { key: 'quality', href: '/quality', label: 'Data quality', permission: 'quality.read' },
  { key: 'devices', href: '/admin/devices', label: 'Wall displays', permission: 'device.manage' },
  { key: 'audit', href: '/audit', label: 'Audit', permission: 'audit.read' },
] as const;

export type AppPage = (typeof appPages)[number];
export type AppPageKey = AppPage['key'];

const permissionsByRole: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries(rolesConfig.roles as Record<string, { permissions: string[] }>).map(
    ([role, { permissions }]) => [role, new Set(permissions)],
  ),
);

/** Whether any of the roles holds the permission (an unknown role holds none). */
export function holds(roles: readonly string[], permission: string): boolean {
  return roles.some((role) => permissionsByRole.get(role)?.has(permission) ?? false);
}

/** The pages the roles allow, in navigation order. */
export function pagesFor(roles: readonly string[]): AppPage[] {
  return appPages.filter((page) => holds(roles, page.permission));
}
