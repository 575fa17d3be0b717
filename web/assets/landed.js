// Where the explorer's "other site" link lands: says what happened and leads back.
const lang = new URLSearchParams(location.search).get('lang') === 'ko' ? 'ko' : 'en';
document.documentElement.lang = lang;
const messages = await (await fetch(`/i18n/${lang}.json`)).json();
document.title = messages['lab.landed.title'];
document.getElementById('landed-h').textContent = messages['lab.landed.title'];
document.getElementById('landed-text').textContent = messages['lab.landed.text'];
document.getElementById('landed-back').textContent = messages['lab.landed.back'];
