import { isLocale } from '../shared/i18n.js';
import { SelectField } from '../shared/ui.js';
import { useText } from './context.js';

export function LanguageSwitch() {
  const { t, locale, setLocale } = useText();
  return (
    <SelectField
      label={t('settings.language')}
      value={locale}
      onChange={(event) => {
        if (isLocale(event.target.value)) setLocale(event.target.value);
      }}
    >
      <option value="zh-CN" lang="zh-CN">
        简体中文
      </option>
      <option value="en" lang="en">
        English
      </option>
    </SelectField>
  );
}
