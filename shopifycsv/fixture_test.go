package shopifycsv

// shopifyExport is an order export as Shopify writes it (every column, in
// Shopify's order), with five orders:
//
//	#1001 two lines, paid and fulfilled, amounts with thousands separators
//	#1002 cancelled and refunded; Notes has a comma, "" quotes and a line break
//	#1003 JPY, three lines partly fulfilled, non-ASCII shipping address
//	#1004 malformed: its second line has quantity "two" (row 9)
//	#1005 fulfilled with no line status, no Currency (the default applies)
const shopifyExport = `Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,Payment References
#1001,Ada.Lovelace@Example.com ,paid,2026-03-01 09:05:12 -0500,fulfilled,2026-03-02 14:30:00 -0500,yes,USD,"1,250.50",15.00,25.00,"1,280.50",SPRING10,10.00,Standard,2026-03-01 09:00:00 -0500,2,Walnut Desk Organizer,600.25,,WDO-01,true,true,fulfilled,Ada Lovelace,"12 Crescent Rd, Apt 4",12 Crescent Rd,Apt 4,,Boston,'02134,MA,US,'+16175550100,Ada Lovelace,"12 Crescent Rd, Apt 4",12 Crescent Rd,Apt 4,,Boston,'02134,MA,US,'+16175550100,,,,Shopify Payments,c2871.1,0.00,Harbor Goods,0.00,,,,5712345678901,"vip, wholesale,,",Low,web,0.00,MA State Tax 6.25%,25.00,,,,,,,,,,,,Massachusetts,Massachusetts,c2871,,,
#1001,,,,,,,,,,,,,,,,1,"Brass Pen, ""Executive"" edition",50.00,,PEN-EX,true,true,fulfilled,,,,,,,,,,,,,,,,,,,,,,,,,,,Harbor Goods,,,,,,,,,0.00,,,,,,,,,,,,,,,,,,,
#1002,grace@example.org,refunded,2026-03-03 10:00:00 -0500,unfulfilled,,,USD,89.99,5.00,0.00,94.99,,0.00,,2026-03-03 09:59:00 -0500,1,Linen Throw,89.99,,LT-NAT,true,true,,Grace Hopper,1 Navy Way,,,,Arlington,22201,VA,US,,Grace Hopper,1 Navy Way,,,,Arlington,22201,VA,US,,"Customer called, asked to cancel: ""ordered twice"".
Refund to original card.",,2026-03-04 08:15:00 -0500,Shopify Payments,,94.99,Harbor Goods,,,,,5712345678902,,Medium,shopify_draft_order,0.00,,,,,,,,,,,,,,,,,,,
#1003,,Partially Paid,2026-03-05 10:00:00 +0900,partial,,,JPY,"12,000",800,0,"12,800",,0,,2026-03-05 09:00:00 +0900,2,Tenugui Towel,1500,,TNG-01,true,true,fulfilled,Sato Yuki,,1-2-3 Shibuya,,,Shibuya-ku,150-0002,Tokyo,JP,,佐藤 由紀,,渋谷1-2-3,,,渋谷区,150-0002,東京都,JP,,,,,manual,,,Harbor Goods,,,Tokyo Store,,5712345678903,gift,,pos,0.00,,,,,,,,,,,,,,,,,,,
#1003,,,,,,,,,,,,,,,,1,Cast Iron Teapot,8000,,TPT-09,true,true,pending,,,,,,,,,,,,,,,,,,,,,,,,,,,Harbor Goods,,,,,,,,,0.00,,,,,,,,,,,,,,,,,,,
#1003,,,,,,,,,,,,,,,,1,Gift Wrap,1000,,,true,true,partial,,,,,,,,,,,,,,,,,,,,,,,,,,,Harbor Goods,,,,,,,,,0.00,,,,,,,,,,,,,,,,,,,
#1004,bad@example.com,paid,2026-03-06 12:00:00 -0500,,,,USD,30.00,0.00,0.00,30.00,,,,2026-03-06 12:00:00 -0500,1,Mug,10.00,,MUG-1,true,true,,,,,,,,,,,,,,,,,,,,,,,,,,,,Harbor Goods,,,,,5712345678904,,Low,web,0.00,,,,,,,,,,,,,,,,,,,
#1004,,,,,,,,,,,,,,,,two,Mug,10.00,,MUG-1,true,true,,,,,,,,,,,,,,,,,,,,,,,,,,,,Harbor Goods,,,,,,,,,0.00,,,,,,,,,,,,,,,,,,,
#1005,linus@example.net,paid,2026-03-07 08:00:00 -0500,fulfilled,2026-03-08 08:00:00 -0500,,,42.00,0.00,0.00,42.00,,,,2026-03-07 07:59:59 -0500,3,Sticker Pack,14.00,,STK-3,true,true,,,9 Kernel St,,,,Portland,,,,,,,,,,,,,,,,,,,,,Harbor Goods,,,,,5712345678905,,High,web,0.00,,,,,,,,,,,,,,,,,,,
`
