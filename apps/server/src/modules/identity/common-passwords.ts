/**
 * Passwords that appear near the top of every public breach corpus (RockYou, the "most common
 * passwords" lists of NCSC and SecLists), lower-cased, separated by white space. Many are shorter
 * than the minimum length and are rejected by it anyway; they are kept so that the list stays true
 * if the minimum changes. Data, not code: add entries freely, one word per token.
 */
export const commonPasswordsText = `
!qaz2wsx !qaz2wsx#edc 000000 00000000 000000000000 0123456789012 0987654321 098765432109 111111 11111111
111111111 111111111111 11111111111111 112233 11223344 112233445566 11223344556677 121212 121212121212 123123
123123123123 123321 1234 12341234 123412341234 12345 123456 123456123456 1234567 12345678 1234567812345678
123456789 1234567890 123456789012 1234567890123 12345678901234 1234567890abc 1234567890qwerty 12345678910
1234567891011 123456789123 123456789aaa 123456789abc 123456789qwerty 123456a 123456qwerty 1234qwerasdfzxcv
123654 123qwe 131313 147258 147258369 147258369147 159357 159753 159753159753 1a2b3c4d 1a2b3c4d5e6f 1q2w3e
1q2w3e4r 1q2w3e4r5t6y 1q2w3e4r5t6y7u 1q2w3e4r5t6y7u8i 1qaz!qaz1qaz 1qaz2wsx 1qaz2wsx3edc 1qaz2wsx3edc4
1qaz2wsx3edc4rfv 1qaz@wsx 1qazxsw2 1qazxsw23edc 2000 222222222222 27653 456789 5201314 654321 666666
666666666666 7777777 777777777777 789456123 88888888 888888888888 987654321 987654321987 999999999999
a123456789012 a1b2c3d4 a1b2c3d4e5f6 aa123456 aa12345678 aa1234567890 aaaaaa111111 aaaaaaaaaaaa abc123 abc12345
abc123456789 abc123abc123 abcd1234 abcd1234abcd abcdabcdabcd abcdef123456 abcdefg12345 abcdefgh1234
abcdefghijk1 abcdefghijkl abcdefghijklmnop access access14 admin admin123 admin1234567 admin123456789
admin@123456 adminadmin123 administrator administrator1 administrator123 alexander123 amanda andrew angel
angels anthony anthony12345 arsenal arsenal12345 asdf1234 asdfasdf asdfasdfasdf asdfgh asdfghjkl asdfghjkl123
asdfghjkl1234 asdfghjklqwe asdfghjklzxcvbnm ashley asshole azerty babygirl babygirl1234 bailey barcelona
barcelona123 barcelona1234 baseball baseball1 baseball1234 basketball12 basketball123 batman batman123456
benjamin1234 bigdog bitcoin12345 biteme blessed blessed12345 buster butterfly butterfly123 cassandra123
changeme changeme1234 changeme123456 charlie cheese chelsea chelsea12345 chocolate123 christopher1 computer
computer1234 contrasena12 cookie correcthorsebatterystaple corvette dallas daniel default default12345 diamond
dragon dragon1 dragon123456 elizabeth123 facebook facebook1234 flower football football1 football1234
football12345 forever12345 fortnite fortnite1234 freedom friends12345 fuckyou fuckyou1 george ginger google
google123456 guest guest1234567 hannah harley haslo1234567 hello hello1234567 hellohello hellohello12
helloworld123 helloworld1234 hockey hunter2 iloveyou iloveyou1234 iloveyou12345 iloveyou123456 iloveyou4ever
iloveyoubaby iloveyouiloveyou instagram123 internet internet1234 iphone iphone123456 jennifer jennifer1234
jessica jesus jesus1234567 jesuschrist1 jesuslovesme jonathan1234 jordan23 jordan231234 joshua justin killer
letmein letmein1 letmein12345 letmein123456 letmeinletmein letmeinplease linkedin1234 liverpool liverpool123
liverpool1234 login love lovelove1234 lovely loveme loveyou123456 maggie manchester manchester123
manchesterunited master master123456 matthew merlin michael michael12345 michelle microsoft123 minecraft
minecraft123 minecraft1234 money1234567 monkey monkey1 monkey123456 motdepasse12 mustang mypassword123
mypassword1234 mysecretpassword naruto naruto123456 nicholas1234 nicole orange p@ssw0rd p@ssw0rd1234 p@ssword
p@ssword1234 parola123456 pass passpass passw0rd passw0rd1234 password password!123 password.123 password1
password123 password1234 password1234! password12345 password123456 password2020 password2021 password2022
password2023 password2024 password2025 password2026 password@123 passwordpassword passwordqwerty passwort1234
payment12345 pepper pineapple123 playstation1 playstation2 playstation3 playstation4 playstation5 pokemon
pokemon12345 princess princess1 princess1234 princess12345 purple q123456789012 q1w2e3r4 q1w2e3r4t5
q1w2e3r4t5y6 q1w2e3r4t5y6u7 qazwsx qazwsxedc123 qazwsxedcrfv qazwsxedcrfvtgb qwe123 qweasd qweasdzxc123
qweasdzxc1234 qwerasdfzxcv qwerasdfzxcv1 qwerty qwerty1 qwerty12 qwerty123 qwerty1234 qwerty123456
qwerty12345678 qwerty1234567890 qwerty123qwerty qwertyqwerty qwertyuiop qwertyuiop12 qwertyuiop123
qwertyuiop1234 qwertyuiopasdf qwertyuiopasdfghjkl qwertyuiopasdfghjklzxcvbnm ranger realmadrid realmadrid12
realmadrid123 robert rockstar1234 root rootroot1234 samsung samsung12345 samsunggalaxy secret secret1
secret123456 senha1234567 shadow silver snoopy soccer solo sparky spiderman123 starwars starwars1234
starwars12345 strawberry12 summer summer2024!! sunflower123 sunshine sunshine1234 sunshine12345 superman
superman1234 superman12345 superstar123 test test123 test1234 test12345678 test123456789 testtest testtest1234
thequickbrownfox thequickbrownfoxjumpsoverthelazydog thisismypassword thomas tigger toor trustno1
trustno1trustno1 trustnoone123 user1234 useruser1234 victoria1234 wachtwoord12 wallet123456 welcome welcome1
welcome12345 welcome123456 welcome@1234 welcomewelcome whatever whatever1234 william winter2024!! woaini
woaini1314 yankees yunpay123456 yunpaywallet zaq12wsx zaq12wsxcde3 zaq1xsw2cde3 zaq1zaq1 zxasqw123456 zxcvbn
zxcvbnm zxcvbnm123456 zxcvbnmasdfghjkl zxcvbnmzxcvbnm
`;
