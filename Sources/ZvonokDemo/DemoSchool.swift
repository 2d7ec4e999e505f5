import Foundation

/// One school of the demo region: its roster (in the roster upload's CSV form) and a short sample conversation.
struct DemoSchool: Sendable {
    /// A sample message: the sender's externalId, the chat's key (`DemoRegion.chatsByKey`) and the text.
    struct Line: Sendable {
        let from: String
        let chat: String
        let text: String
    }

    let externalID: String
    let name: String
    /// Roster rows after the header, with `{year}` where the school year goes.
    let rows: String
    let conversation: [Line]

    func roster(year: String) -> String {
        "type,externalId,name,role,grade,letter,year,class,classes,homeroom,students\n" + rows.replacingOccurrences(of: "{year}", with: year)
    }

    /// The school year a day falls in: from September on, this year and the next ("2026/2027").
    static func schoolYear(of date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Moscow") ?? .gmt
        let parts = calendar.dateComponents([.year, .month], from: date)
        let first = (parts.year ?? 2026) - ((parts.month ?? 9) >= 9 ? 0 : 1)
        return "\(first)/\(first + 1)"
    }

    static let all = [first, second]

    static let first = DemoSchool(
        externalID: "web-demo-s1",
        name: "Школа №1 имени Н. Н. Звонкова",
        rows: """
            class,k5a,,,5,А,{year},,,,
            class,k9b,,,9,Б,{year},,,,
            staff,a1,Ирина Петровна Смирнова,school_admin,,,,,,,
            staff,t1,Анна Сергеевна Иванова,teacher,,,,,k5a|k9b,k5a,
            staff,t2,Павел Андреевич Кузнецов,teacher,,,,,k9b,k9b,
            student,s1,Миша Соколов,,,,,k5a,,,
            student,s2,Катя Лебедева,,,,,k5a,,,
            student,s3,Дима Волков,,,,,k9b,,,
            student,s4,Оля Морозова,,,,,k9b,,,
            guardian,g1,Елена Викторовна Соколова,,,,,,,,s1
            guardian,g2,Сергей Николаевич Лебедев,,,,,,,,s2
            guardian,g3,Наталья Игоревна Волкова,,,,,,,,s3
            """,
        conversation: [
            Line(from: "t1", chat: "class:k5a", text: "Доброе утро! Завтра контрольная по математике, повторите дроби."),
            Line(from: "s1", chat: "class:k5a", text: "Анна Сергеевна, а учебник брать?"),
            Line(from: "t1", chat: "class:k5a", text: "Да, и тетрадь для контрольных."),
            Line(from: "s2", chat: "class:k5a", text: "Спасибо!"),
            Line(from: "t1", chat: "class_parents:k5a", text: "Уважаемые родители! Собрание в четверг в 18:00, кабинет 12."),
            Line(from: "g1", chat: "class_parents:k5a", text: "Спасибо, будем."),
            Line(from: "g2", chat: "class_parents:k5a", text: "Можно подключиться по видеосвязи?"),
            Line(from: "t2", chat: "class:k9b", text: "Напоминаю: пробный ОГЭ в субботу в 9:00."),
            Line(from: "s3", chat: "class:k9b", text: "Павел Андреевич, а калькулятор можно?"),
            Line(from: "t2", chat: "class:k9b", text: "Нет, только линейка и ручка."),
            Line(from: "a1", chat: "school_staff", text: "Коллеги, педсовет перенесён на пятницу, 15:00."),
            Line(from: "t1", chat: "school_staff", text: "Принято."),
            Line(from: "a1", chat: "school", text: "С понедельника школа работает по зимнему расписанию."),
        ]
    )

    static let second = DemoSchool(
        externalID: "web-demo-s2",
        name: "Гимназия №2",
        rows: """
            class,k7v,,,7,В,{year},,,,
            staff,a1,Олег Викторович Новиков,school_admin,,,,,,,
            staff,t1,Мария Александровна Фёдорова,teacher,,,,,k7v,k7v,
            student,s1,Саша Павлов,,,,,k7v,,,
            student,s2,Лиза Орлова,,,,,k7v,,,
            guardian,g1,Ольга Павлова,,,,,,,,s1
            guardian,g2,Андрей Орлов,,,,,,,,s2
            """,
        conversation: [
            Line(from: "t1", chat: "class:k7v", text: "Ребята, экскурсия в музей в среду, сбор у школы в 10:00."),
            Line(from: "s1", chat: "class:k7v", text: "Ура! 🎉"),
            Line(from: "t1", chat: "class_parents:k7v", text: "Родители, подпишите, пожалуйста, согласие на экскурсию."),
        ]
    )
}
