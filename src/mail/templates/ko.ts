import type { Catalogue } from './types.js';

const duration = (m = 0) => (m >= 60 && m % 60 === 0 ? `${m / 60}시간` : `${m}분`);
const footer = (site: string) => `${site}에서 보낸 메일입니다. 요청하지 않으셨다면 무시하셔도 됩니다.`;

export const ko: Catalogue = {
  verify_email: (v) => ({
    subject: `${v.site} 이메일 주소를 인증해 주세요`,
    paragraphs: [`아래 링크를 열어 이 주소가 ${v.site} 계정의 주소임을 확인해 주세요.`, `링크는 한 번만 사용할 수 있으며 ${duration(v.ttlMinutes)} 후에 만료됩니다.`],
    button: '이메일 주소 인증',
    footer: footer(v.site),
  }),
  password_reset: (v) => ({
    subject: `${v.site} 비밀번호 재설정`,
    paragraphs: [
      `${v.site} 계정의 비밀번호 재설정이 요청되었습니다. 아래 링크를 열어 새 비밀번호를 정해 주세요.`,
      `링크는 한 번만 사용할 수 있으며 ${duration(v.ttlMinutes)} 후에 만료됩니다. 재설정하면 모든 기기에서 로그아웃됩니다.`,
      '요청하지 않으셨다면 이 메일을 무시하세요. 비밀번호는 바뀌지 않습니다.',
    ],
    button: '새 비밀번호 정하기',
    footer: footer(v.site),
  }),
  email_change_confirm: (v) => ({
    subject: `${v.site} 새 이메일 주소를 확인해 주세요`,
    paragraphs: [`아래 링크를 열면 이 주소가 ${v.site} 계정의 이메일 주소가 됩니다.`, `확인하기 전에는 아무것도 바뀌지 않습니다. 링크는 한 번만 사용할 수 있으며 ${duration(v.ttlMinutes)} 후에 만료됩니다.`],
    button: '새 주소 확인',
    footer: footer(v.site),
  }),
  email_change_notice: (v) => ({
    subject: `${v.site} 이메일 주소 변경 요청`,
    paragraphs: [
      `계정의 이메일 주소를 ${v.newEmailMasked ?? '새 주소'}(으)로 바꾸는 요청이 있었습니다. 새 주소가 확인되어야 변경됩니다.`,
      '본인이 요청하지 않았다면 지금 비밀번호를 바꾸고 다른 기기에서 로그아웃하세요.',
    ],
    footer: footer(v.site),
  }),
  already_registered: (v) => ({
    subject: `누군가 이 주소로 ${v.site} 계정을 만들려고 했습니다`,
    paragraphs: [
      `방금 이 주소로 ${v.site} 가입이 시도되었지만, 이미 이 주소를 쓰는 계정이 있어 새 계정은 만들어지지 않았습니다.`,
      '본인이 시도했다면 가입 대신 로그인하세요. 그 계정의 비밀번호를 모르거나 직접 만든 계정이 아니라면 아래 링크로 새 비밀번호를 정하세요. 계정이 본인의 것이 되고 그 계정의 모든 기기에서 로그아웃됩니다.',
      `링크는 한 번만 사용할 수 있으며 ${duration(v.ttlMinutes)} 후에 만료됩니다. 아무것도 하지 않으셨다면 이 메일을 무시하세요.`,
    ],
    button: '새 비밀번호 정하기',
    footer: footer(v.site),
  }),
  password_changed: (v) => ({
    subject: `${v.site} 비밀번호가 재설정되었습니다`,
    paragraphs: ['계정의 비밀번호가 방금 재설정되었고 모든 기기에서 로그아웃되었습니다.', '본인이 아니라면 즉시 비밀번호를 다시 재설정하고 계정을 확인하세요.'],
    footer: footer(v.site),
  }),
  recovery_code_used: (v) => ({
    subject: `${v.site} 로그인에 복구 코드가 사용되었습니다`,
    paragraphs: [
      `인증 앱 대신 복구 코드 하나가 방금 사용되었습니다. 사용하지 않은 코드가 ${v.remaining ?? 0}개 남아 있습니다.`,
      '본인이 아니라면 즉시 비밀번호를 바꾸고 새 복구 코드를 만든 뒤 기기 목록을 확인하세요.',
    ],
    footer: footer(v.site),
  }),
  mfa_reset: (v) => ({
    subject: `${v.site} 계정의 2단계 로그인이 해제되었습니다`,
    paragraphs: [
      '관리자가 계정의 2단계 인증 수단(인증 앱, 복구 코드, 패스키)을 삭제했고 모든 기기에서 로그아웃되었습니다.',
      '비밀번호로 로그인한 뒤 2단계 로그인을 다시 설정하세요. 요청한 적이 없다면 관리자에게 문의하세요.',
    ],
    footer: footer(v.site),
  }),
};
